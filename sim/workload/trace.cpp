#include "sim/workload/trace.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <string>

#include "sim/catalog/catalog.hpp"
#include "sim/core/parse_number.hpp"
#include "sim/core/limits.hpp"

namespace servetwin {
namespace {

std::vector<std::string> split_csv_simple(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (auto& s : out) {
    while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
  }
  return out;
}

// One cell read strictly (whole field, finite, integer where asked) and checked against `limit`.
double trace_number(const std::string& path, int line_no, const char* column, const std::string& text,
                    const Limit& limit) {
  double v = 0;
  bool ok = false;
  if (limit.integer) {
    std::int64_t i = 0;
    ok = parse_int64(text, i);
    v = static_cast<double>(i);
  } else {
    ok = parse_finite_double(text, v);
  }
  if (!ok) {
    throw ConfigError(fmt::format("{}:{}: column '{}': '{}' is not {}; allowed: {}", path, line_no, column, text,
                                  limit.integer ? "an integer" : "a finite number", describe_limit(limit)));
  }
  const std::string problem = limit_violation(v, limit);
  if (!problem.empty()) {
    throw ConfigError(fmt::format("{}:{}: column '{}': {} {}", path, line_no, column, text, problem));
  }
  return v;
}

}  // namespace

std::vector<TraceRow> load_trace_csv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(fmt::format("{}: cannot open trace file", path.string()));
  return parse_trace_csv(in, path.string());
}

std::vector<TraceRow> parse_trace_csv(std::istream& in, const std::string& path) {
  std::string line;
  if (!std::getline(in, line)) throw ConfigError(fmt::format("{}: empty trace file", path));
  const auto header = split_csv_simple(line);
  int c_at = -1, c_in = -1, c_out = -1;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "arrived_at") c_at = static_cast<int>(i);
    if (header[i] == "num_prefill_tokens") c_in = static_cast<int>(i);
    if (header[i] == "num_decode_tokens") c_out = static_cast<int>(i);
  }
  if (c_at < 0 || c_in < 0 || c_out < 0) {
    throw ConfigError(fmt::format("{}:1: header must contain arrived_at, num_prefill_tokens, num_decode_tokens",
                                  path));
  }
  std::vector<TraceRow> rows;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    const auto cells = split_csv_simple(line);
    auto cell = [&](int c, const char* name) -> const std::string& {
      if (static_cast<std::size_t>(c) >= cells.size()) {
        throw ConfigError(fmt::format("{}:{}: missing column '{}'", path, line_no, name));
      }
      return cells[static_cast<std::size_t>(c)];
    };
    TraceRow r;
    r.arrived_at_s = trace_number(path, line_no, "arrived_at", cell(c_at, "arrived_at"), limits::kArrivalS);
    r.input_tokens = static_cast<std::int64_t>(trace_number(path, line_no, "num_prefill_tokens",
                                                            cell(c_in, "num_prefill_tokens"), limits::kTokensPerRequest));
    r.output_tokens = static_cast<std::int64_t>(trace_number(path, line_no, "num_decode_tokens",
                                                             cell(c_out, "num_decode_tokens"), limits::kTokensPerRequest));
    if (rows.size() >= static_cast<std::size_t>(limits::kTraceRows.hi)) {
      throw ConfigError(fmt::format("{}:{}: more than {:g} rows; allowed: {}", path, line_no,
                                    limits::kTraceRows.hi, describe_limit(limits::kTraceRows)));
    }
    if (!rows.empty() && r.arrived_at_s < rows.back().arrived_at_s) {
      throw ConfigError(fmt::format("{}:{}: arrived_at must not decrease", path, line_no));
    }
    rows.push_back(r);
  }
  if (rows.empty()) throw ConfigError(fmt::format("{}: trace has no rows", path));
  return rows;
}

}  // namespace servetwin
