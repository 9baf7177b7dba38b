#pragma once
// `servetwin validate`: scores the simulator against published measurements in the common CSV
// schema of ../shared/validation/published/README.md. Each row becomes a scenario (or an
// "unsupported" entry with the reason) by the validation policy in configs/validation (row_mapping.hpp);
// all rows run in parallel; per row the predicted value of every metric the row reports is compared
// with the measured one; per source file the median and mean absolute % error, signed bias and n are
// reported per metric, plus coverage. Rows a preset was fitted on run but are never scored.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "sim/validate/row_mapping.hpp"
#include "sim/validate/validation_csv.hpp"
#include "sim/validate/validation_policy.hpp"

namespace servetwin {

class Catalog;

struct ValidateOptions {
  std::vector<std::filesystem::path> data;
  int jobs = 1;
  bool progress = false;
  std::filesystem::path policy_dir;  // empty: the catalog's validation/ folder (configs/validation)
};

// The policy `opts` selects, read and checked against the catalog (ConfigError naming file and field).
ValidationPolicy load_checked_policy(const Catalog& catalog, const std::filesystem::path& policy_dir);

// Runs everything; returns the report JSON (shape documented in docs/validation.md).
nlohmann::json run_validation(const Catalog& catalog, const ValidateOptions& opts);

// Console tables: per source, per metric n / median / mean APE / bias; coverage; unsupported rows.
void print_validation_tables(std::ostream& os, const nlohmann::json& report);

// Split check: throws std::logic_error when a row that belongs to the fit set of the preset that
// predicted it was scored. Used by the accuracy tests so a leaked fit cannot pass silently.
void check_no_fit_rows_scored(const ValidationPolicy& policy, const nlohmann::json& report);

// One metric's entry of a source's "metrics" table from its signed errors (predicted/measured - 1):
// {"n", "median_ape", "mean_ape", "bias"}, shared by `validate --data` and `validate --live`.
nlohmann::json error_summary(const std::vector<double>& signed_errors);

}  // namespace servetwin
