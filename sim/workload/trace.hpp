#pragma once
// Trace replay input: CSV with header `arrived_at,num_prefill_tokens,num_decode_tokens`
// (arrival in seconds from the start, as in ../shared/bench), extra columns ignored.
#include <cstdint>
#include <filesystem>
#include <istream>
#include <string>
#include <vector>

namespace servetwin {

struct TraceRow {
  double arrived_at_s = 0;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
};

// Throws ConfigError naming file, line and column for malformed rows or unsorted arrivals.
std::vector<TraceRow> load_trace_csv(const std::filesystem::path& path);
// The same from a stream; `path` names the input in errors (load_trace_csv calls this).
std::vector<TraceRow> parse_trace_csv(std::istream& in, const std::string& path);

}  // namespace servetwin
