#pragma once
// `servetwin validate --live DIR`: re-simulates the deployment and load recorded by a live run
// (`servetwin load --out DIR`) and compares measured with predicted per stage. The report has the
// shape of `validate --data` (docs/validation.md): one source (the run), one row per stage with
// predicted / measured / ape per metric, per-metric n / median / mean APE / bias, coverage.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "sim/scenario/deployment.hpp"

namespace servetwin {

class Catalog;

struct LiveValidateOptions {
  std::filesystem::path dir;
  // The server's deployment when the run did not record one (`servetwin load` without --model),
  // or to predict another deployment; otherwise resolved_config.server_deployment is used.
  std::optional<DeploymentConfig> deployment;
};

// Throws ConfigError naming the file and field for unreadable or inconsistent input (see
// read_live_run), a run without a recorded deployment and no override, or a deployment the
// catalog does not know.
nlohmann::json run_live_validation(const Catalog& catalog, const LiveValidateOptions& opts);

// Per stage: metric, measured, predicted, error %; then print_validation_tables' summary.
void print_live_validation_tables(std::ostream& os, const nlohmann::json& report);

}  // namespace servetwin
