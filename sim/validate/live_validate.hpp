#pragma once
// `servetwin validate --live DIR`: re-simulates the deployment and load recorded by a live run
// (`servetwin load --out DIR`) and compares measured with predicted per stage. The report has the
// shape of `validate --data` (docs/validation.md): one source (the run), one row per stage with
// predicted / measured / ape per metric, per-metric n / median / mean APE / bias, coverage.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "sim/formats/llmd_report.hpp"
#include "sim/scenario/deployment.hpp"

namespace servetwin {

class Catalog;

struct LiveValidateOptions {
  std::filesystem::path dir;  // a `servetwin load --out` directory or another tool's result file
  // The server's deployment when the run did not record one (`servetwin load` without --model),
  // or to predict another deployment; otherwise resolved_config.server_deployment is used.
  std::optional<DeploymentConfig> deployment;
};

// Throws ConfigError naming the file and field for unreadable or inconsistent input (see
// read_live_run and formats::read_any_run), a run without a recorded deployment and no override, or
// a deployment the catalog does not know.
nlohmann::json run_live_validation(const Catalog& catalog, const LiveValidateOptions& opts);

// The deployment to re-simulate: the flags (the model may come from the file: `model_hint`), or a
// servetwin run's recorded server_deployment; resolved against the catalog. `where` names the
// source in error messages, `from` in the report.
struct LiveDeployment {
  DeploymentConfig d;
  std::string from, where;
};
LiveDeployment live_run_deployment(const Catalog& catalog, const LiveValidateOptions& opts, const std::string& format,
                                   const nlohmann::json& resolved_config, const std::string& model_hint);

// An llm-d report holds aggregate statistics only: requests are drawn from its reported length
// quantiles at its load (rate_qps: Poisson arrivals with --seed 42; concurrency: a closed loop),
// re-simulated, and the predicted metrics compared with the reported ones (sim/validate/aggregate_validate.cpp).
nlohmann::json run_aggregate_validation(const Catalog& catalog, const LiveValidateOptions& opts,
                                        const formats::LlmdStage& report);

// Per stage: metric, measured, predicted, error %; then print_validation_tables' summary.
void print_live_validation_tables(std::ostream& os, const nlohmann::json& report);

}  // namespace servetwin
