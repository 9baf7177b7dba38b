#pragma once
// The scenario flags shared by `predict`, `sweep` (deployment part) and `serve` (live/).
#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace servetwin::cli {

// Parses --engine-set KEY=VALUE entries into `out`; throws UsageError on a malformed entry.
void apply_engine_set(const std::vector<std::string>& entries, std::map<std::string, std::string>& out);

struct DeploymentOptions {
  DeploymentConfig d;
  std::vector<std::string> engine_set;  // K=V
  // Applies the K=V list to d.engine_set; throws UsageError on a malformed entry.
  DeploymentConfig resolved_flags() const;
};

// --model --instance --gpu --num-gpus --tp --engine --engine-set --dtype
void add_deployment_options(CLI::App& cmd, DeploymentOptions& o);

struct ScenarioOptions {
  DeploymentOptions deployment;
  std::string scenario_file, workload, dataset, trace, arrival = "poisson", config_dir, out;
  std::vector<double> concurrency, rate;
  std::int64_t max_in_flight = 0, requests = 0;
  double duration_s = 240;
  std::uint64_t seed = 42;
  int jobs = 0;
  bool json = false;
};

void add_scenario_options(CLI::App& cmd, ScenarioOptions& o);
// From --scenario FILE, or from flags; with neither model nor scenario file: `default_file`.
std::vector<Scenario> scenarios_from_options(const ScenarioOptions& o, const std::string& default_file);
int default_jobs();

}  // namespace servetwin::cli
