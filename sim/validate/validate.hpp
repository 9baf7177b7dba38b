#pragma once
// `servetwin validate`: scores the simulator against published measurements in the common CSV
// schema of ../shared/validation/published/README.md. Each row becomes a scenario (or an
// "unsupported" entry with the reason); all rows run in parallel; per row the predicted value of
// every metric the row reports is compared with the measured one; per source file the median and
// mean absolute % error, signed bias and n are reported per metric, plus coverage.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace servetwin {

class Catalog;

// One CSV row: column name -> cell text (empty = not reported).
struct ValidationRow {
  std::string file;  // source file name (e.g. "blis_vllm_h100.csv")
  int line = 0;
  std::map<std::string, std::string> cells;
  [[nodiscard]] const std::string& get(const std::string& col) const;
  [[nodiscard]] std::optional<double> number(const std::string& col) const;
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

struct RowMapping {
  std::optional<Scenario> scenario;  // empty when unsupported
  std::string reason;                // why unsupported
  std::string engine_preset;
  std::string engine_preset_version;  // the preset's `version` (which engine era models the row)
  std::string engine_evidence;        // what in the row's own records chose a setting (empty: none)
  std::string fit_set;               // the preset's fitted_on set ("none" when nothing fitted)
  bool in_fit_set = false;           // the row belongs to the preset's fit set: run, never scored
  // num_gpus = replicas x tp: the scenario is one replica with 1/replicas of the load (round-robin
  // over independent replicas); throughput-type predictions are multiplied back by `replicas`.
  int replicas = 1;
  // Price per hour for a `usd_per_1m_tokens` column: the row's own `instance_usd_per_h`, else the
  // catalog's on-demand price of its instance; 0 = no price, the column is not compared.
  double usd_per_h = 0;
  // Where each metric's prediction comes from (e.g. itl_mean_ms -> per-request mean for
  // inference-perf sources), for the report.
  std::map<std::string, std::string> metric_source;
};

// Maps a row to a scenario. `data_dir` is the CSV's folder (DistServe traces are found next to it
// in ../distserve). Never throws for a row it cannot map: it returns the reason instead.
RowMapping map_row(const Catalog& catalog, const ValidationRow& row, const std::filesystem::path& data_dir);

// Fit sets: named groups of rows a preset's fitted values came from.
// Returns true when `row` belongs to `fit_set`; throws ConfigError for an unknown set name.
bool row_in_fit_set(const std::string& fit_set, const ValidationRow& row);
const std::vector<std::string>& known_fit_sets();

struct ValidateOptions {
  std::vector<std::filesystem::path> data;
  int jobs = 1;
  bool progress = false;
};

// Runs everything; returns the report JSON (shape documented in docs/validation.md).
nlohmann::json run_validation(const Catalog& catalog, const ValidateOptions& opts);

// Console tables: per source, per metric n / median / mean APE / bias; coverage; unsupported rows.
void print_validation_tables(std::ostream& os, const nlohmann::json& report);

// Split check: throws std::logic_error when a row that belongs to the fit set of the preset that
// predicted it was scored. Used by the accuracy tests so a leaked fit cannot pass silently.
void check_no_fit_rows_scored(const nlohmann::json& report);

// One metric's entry of a source's "metrics" table from its signed errors (predicted/measured - 1):
// {"n", "median_ape", "mean_ape", "bias"}, shared by `validate --data` and `validate --live`.
nlohmann::json error_summary(const std::vector<double>& signed_errors);

}  // namespace servetwin
