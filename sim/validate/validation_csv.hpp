#pragma once
// The published-measurement CSV of `servetwin validate --data` (schema: ../shared/validation/published/README.md):
// rows as column -> cell text, and the column lists validate compares, describes or names as unknown.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace servetwin {

// One CSV row: column name -> cell text (empty = not reported).
struct ValidationRow {
  std::string file;  // source file name (e.g. "blis_vllm_h100.csv")
  int line = 0;
  std::map<std::string, std::string> cells;
  [[nodiscard]] const std::string& get(const std::string& col) const;
  [[nodiscard]] std::optional<double> number(const std::string& col) const;
  // The published source the row came from: its source_id up to the first ':' ("distserve").
  [[nodiscard]] std::string source() const;
};

// Reads a CSV in the published schema (header row, RFC-4180 quoting). Throws ConfigError naming
// file and line for malformed input or a missing required column.
std::vector<ValidationRow> read_validation_csv(const std::filesystem::path& path);

// The metric columns validate compares (all numeric columns of the schema that a run predicts).
const std::vector<std::string>& validation_metric_columns();
// More columns a CSV may add beyond the schema (ttft_p95_ms, tpot_p50/p90/p95/p99_ms, e2e_p90/p95_ms, and
// the seed table's usd_per_1m_tokens); `validate --data` compares them too when present.
const std::vector<std::string>& extra_metric_columns();
// The schema's descriptive (non-metric) columns: neither compared nor reported as unknown.
const std::vector<std::string>& descriptive_columns();

}  // namespace servetwin
