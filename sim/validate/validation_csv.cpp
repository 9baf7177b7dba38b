#include "sim/validate/validation_csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sim/catalog/catalog.hpp"

namespace servetwin {
namespace {

const std::string kEmpty;

// RFC 4180 records: quoted fields may hold commas, doubled quotes and newlines.
std::vector<std::pair<int, std::vector<std::string>>> parse_csv(const std::string& text, const std::string& file) {
  std::vector<std::pair<int, std::vector<std::string>>> out;
  std::vector<std::string> rec;
  std::string field;
  bool quoted = false, any = false;
  int line = 1, rec_line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      rec.push_back(field);
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        rec.push_back(field);
        out.emplace_back(rec_line, rec);
      }
      rec.clear();
      field.clear();
      any = false;
      ++line;
      rec_line = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) throw ConfigError(fmt::format("{}:{}: unterminated quoted field", file, rec_line));
  if (any || !field.empty()) {
    rec.push_back(field);
    out.emplace_back(rec_line, rec);
  }
  return out;
}

}  // namespace

const std::string& ValidationRow::get(const std::string& col) const {
  auto it = cells.find(col);
  return it == cells.end() ? kEmpty : it->second;
}

std::string ValidationRow::source() const {
  const std::string& id = get("source_id");
  return id.substr(0, id.find(':'));
}

std::optional<double> ValidationRow::number(const std::string& col) const {
  const std::string& s = get(col);
  if (s.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("{}:{}: column '{}': '{}' is not a number", file, line, col, s));
  }
}

const std::vector<std::string>& validation_metric_columns() {
  static const std::vector<std::string> cols = {
      "throughput_output_tok_s", "throughput_total_tok_s", "request_rate_achieved", "ttft_mean_ms", "ttft_p50_ms",
      "ttft_p90_ms",             "ttft_p99_ms",            "itl_mean_ms",           "tpot_mean_ms", "e2e_mean_ms",
      "e2e_p50_ms",              "e2e_p99_ms",             "latency_per_token_median_ms"};
  return cols;
}

const std::vector<std::string>& extra_metric_columns() {
  static const std::vector<std::string> cols = {"ttft_p95_ms", "tpot_p50_ms", "tpot_p90_ms", "tpot_p95_ms",
                                                "tpot_p99_ms", "e2e_p90_ms",  "e2e_p95_ms",  "usd_per_1m_tokens"};
  return cols;
}

const std::vector<std::string>& descriptive_columns() {
  static const std::vector<std::string> cols = {
      "source_id",  "source",      "model",         "gpu",        "num_gpus",          "tp",
      "precision",  "engine",      "engine_version", "instance",  "workload",          "input_tokens_mean",
      "output_tokens_mean", "input_tokens_desc", "load_type", "load_value", "duration_s", "tpot_def", "notes",
      "instance_usd_per_h"};
  return cols;
}

std::vector<ValidationRow> read_validation_csv(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ConfigError(fmt::format("{}: cannot open", path.string()));
  std::stringstream ss;
  ss << f.rdbuf();
  const auto records = parse_csv(ss.str(), path.string());
  if (records.empty()) throw ConfigError(fmt::format("{}: empty file (expected a header row)", path.string()));
  const auto& header = records.front().second;
  for (const char* req : {"source_id", "model", "gpu", "load_type"}) {
    if (std::find(header.begin(), header.end(), req) == header.end()) {
      throw ConfigError(fmt::format("{}:1: required column '{}' missing; the schema is in "
                                    "validation/published/README.md",
                                    path.string(), req));
    }
  }
  std::vector<ValidationRow> rows;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const auto& [line, rec] = records[i];
    if (rec.size() != header.size()) {
      throw ConfigError(fmt::format("{}:{}: {} fields, header has {}", path.string(), line, rec.size(), header.size()));
    }
    ValidationRow r;
    r.file = path.filename().string();
    r.line = line;
    for (std::size_t c = 0; c < header.size(); ++c) r.cells[header[c]] = rec[c];
    for (const auto& col : validation_metric_columns()) (void)r.number(col);  // malformed numbers fail early
    for (const auto& col : extra_metric_columns()) (void)r.number(col);
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace servetwin
