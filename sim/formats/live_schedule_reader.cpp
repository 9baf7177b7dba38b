#include "sim/formats/live_schedule_reader.hpp"

#include <fmt/format.h>

#include <sstream>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/core/parse_number.hpp"
#include "sim/metrics/request_record.hpp"

namespace servetwin {
namespace {

std::int64_t whole_integer(const std::string& s, const std::string& where, const char* col) {
  std::int64_t v = 0;
  if (!parse_int64(s, v)) {
    throw ConfigError(fmt::format("{}: column '{}': '{}' is not an integer", where, col, s));
  }
  return v;
}

}  // namespace

PromptOfRequest parse_schedule_prompts(const std::string& text, const std::string& file) {
  PromptOfRequest out;
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return out;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const auto header = split_csv_record(line);
  std::size_t id_col = header.size(), sample_col = header.size();
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "request_id") id_col = i;
    if (header[i] == "sample_index") sample_col = i;
  }
  if (id_col == header.size() || sample_col == header.size()) return out;
  for (std::size_t n = 2; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto cells = split_csv_record(line);
    const std::string where = fmt::format("{}:{}", file, n);
    if (cells.size() != header.size()) {
      throw ConfigError(fmt::format("{}: {} columns, the header has {}", where, cells.size(), header.size()));
    }
    const std::int64_t id = whole_integer(cells[id_col], where, "request_id");
    const std::int64_t sample = whole_integer(cells[sample_col], where, "sample_index");
    if (id < 0 || sample < -1) {
      throw ConfigError(fmt::format("{}: request_id must be >= 0 and sample_index >= -1", where));
    }
    if (sample >= 0) out[static_cast<std::uint64_t>(id)] = sample;
  }
  return out;
}

}  // namespace servetwin
