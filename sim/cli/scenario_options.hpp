#pragma once
// The scenario flags shared by `predict`, `sweep` (deployment part) and `serve` (live/).
#include <CLI/CLI.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/cli/workload_options.hpp"
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

// Options a scenario file may also set are std::optional: unset means "the file's value, else the
// default", so an explicit flag always wins, even when it equals the default (`--seed 42`).
struct ScenarioOptions : WorkloadOptions {
  DeploymentOptions deployment;
  std::string scenario_file, trace, config_dir, out;
  std::optional<std::int64_t> requests, jobs;
  std::optional<double> duration_s;
  std::optional<double> max_memory_bytes;  // --max-memory; default: default_memory_budget_bytes()
  bool json = false;
  bool client_backoff = false;  // --client-backoff (Scenario::client_backoff)
};

void add_scenario_options(CLI::App& cmd, ScenarioOptions& o);
// --interval-level of predict, sweep and plan (checked_interval_level checks it when the verb runs).
void add_interval_level_option(CLI::App& cmd, double& level);
// From --scenario FILE, or from flags; with neither model nor scenario file: `default_file`.
std::vector<Scenario> scenarios_from_options(const ScenarioOptions& o, const std::string& default_file);
int default_jobs();
// --jobs if given, else all cores.
int jobs_or_default(const std::optional<std::int64_t>& jobs);

}  // namespace servetwin::cli
