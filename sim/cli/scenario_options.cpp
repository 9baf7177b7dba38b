#include "sim/cli/scenario_options.hpp"

#include <thread>

#include "sim/catalog/catalog.hpp"
#include "sim/cli/numeric_flags.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/scenario/scenario_file.hpp"

namespace servetwin::cli {

void apply_engine_set(const std::vector<std::string>& entries, std::map<std::string, std::string>& out) {
  for (const auto& kv : entries) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--engine-set '" + kv + "': expected KEY=VALUE");
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
}

DeploymentConfig DeploymentOptions::resolved_flags() const {
  DeploymentConfig out = d;
  apply_engine_set(engine_set, out.engine_set);
  return out;
}

void add_deployment_options(CLI::App& cmd, DeploymentOptions& o) {
  cmd.add_option("--model", o.d.model, "Model name or alias (servetwin list models)");
  cmd.add_option("--instance", o.d.instance, "Cloud instance (servetwin list instances)");
  cmd.add_option("--gpu", o.d.gpu, "GPU, when no instance is given (servetwin list gpus)");
  // 0 stays the "unset" value of DeploymentConfig; an explicit 0 is out of range.
  cmd.add_option_function<std::string>(
      "--num-gpus", [&o](const std::string& t) { o.d.num_gpus = static_cast<int>(parse_bounded("--num-gpus", t, limits::kNumGpus)); },
      "GPUs serving one replica (default: TP or all of the instance)");
  cmd.add_option_function<std::string>(
      "--tp", [&o](const std::string& t) { o.d.tp = static_cast<int>(parse_bounded("--tp", t, limits::kTp)); },
      "Tensor-parallel degree (default: number of GPUs)");
  cmd.add_option("--engine", o.d.engine, "Engine preset (servetwin list engines)");
  cmd.add_option("--engine-set", o.engine_set, "Override an engine setting, KEY=VALUE (repeatable)");
  cmd.add_option("--dtype", o.d.dtype, "Weights dtype: fp16, bf16, fp8, fp4 (NVFP4; GPUs with FP4 tensor cores)");
}

void add_interval_level_option(CLI::App& cmd, double& level) {
  cmd.add_option("--interval-level", level,
                 "Prediction-interval level, a fraction in (0, 1) (default 0.8; docs/validation.md: intervals)");
}

void add_scenario_options(CLI::App& cmd, ScenarioOptions& o) {
  add_deployment_options(cmd, o.deployment);
  cmd.add_option("--scenario", o.scenario_file, "Scenario YAML file (configs/scenarios)");
  add_workload_options(cmd, o);
  cmd.add_option("--trace", o.trace, "Trace CSV: arrived_at,num_prefill_tokens,num_decode_tokens");
  add_duration_flag(cmd, "--duration", o.duration_s, limits::kDurationS,
                    "Stage length: 30s, 2m, 500ms or a bare number of seconds (default 240)");
  add_integer_flag(cmd, "--requests", o.requests, limits::kRequests, "Stop sending after this many requests per stage");
  add_bytes_flag(cmd, "--max-memory", o.max_memory_bytes,
                 "Refuse a run predicted to need more memory, e.g. 4GB (default: 1 GB or a quarter of RAM if less)");
  cmd.add_option("--out", o.out, "Write summary.json and requests.csv to this directory");
  add_integer_flag(cmd, "--jobs", o.jobs, limits::kJobs, "Parallel simulations (default: all cores)");
  cmd.add_option("--config-dir", o.config_dir, "Catalog directory (default: the shipped configs/)");
  cmd.add_flag("--json", o.json, "Print the summary JSON instead of tables");
  cmd.add_flag("--client-backoff", o.client_backoff,
               "Closed loop: a rejected user backs off as `servetwin load` does (exponential with jitter from 0.1 s, "
               "at most 10 s) instead of retrying after 10 ms");
}

std::vector<Scenario> scenarios_from_options(const ScenarioOptions& o, const std::string& default_file) {
  std::vector<Scenario> list;
  const bool flags_given = !o.deployment.d.model.empty();
  if (!o.scenario_file.empty() || !flags_given) {
    list = load_scenario_file(o.scenario_file.empty() ? default_file : o.scenario_file);
  } else {
    Scenario s;
    s.deployment = o.deployment.resolved_flags();
    list.push_back(s);
  }
  // Flags refine whatever the file set.
  const DeploymentConfig flag_deployment = o.deployment.resolved_flags();
  for (auto& s : list) {
    for (const auto& [k, v] : flag_deployment.engine_set) s.deployment.engine_set[k] = v;
    if (!o.workload.empty()) s.workload = o.workload;
    if (!o.dataset.empty()) s.dataset_path = o.dataset;
    if (auto lengths = synthetic_lengths(o)) {
      s.length_dists = std::move(lengths);
      s.dataset_path.clear();  // the flags override a scenario file's dataset
      s.synthetic_lengths = true;
    }
    if (!o.trace.empty()) s.trace_path = o.trace;
    if (!o.concurrency.empty() && !o.rate.empty()) throw UsageError("give --concurrency or --rate, not both");
    if (!o.concurrency.empty()) {
      s.load.type = "closed";
      s.load.levels = o.concurrency;
    }
    if (!o.rate.empty()) {
      s.load.type = "open";
      s.load.levels = o.rate;
    }
    // Explicit flags override the file; the file overrides the defaults (Scenario's initialisers).
    if (o.arrival) s.load.arrival = *o.arrival;
    if (o.max_in_flight) s.load.max_in_flight = *o.max_in_flight;
    if (o.duration_s) s.duration_s = *o.duration_s;
    if (o.requests) s.max_requests = *o.requests;
    if (o.seed) s.seed = *o.seed;
    if (o.client_backoff) s.client_backoff = true;
    if (flags_given && !o.scenario_file.empty()) {
      throw UsageError("give --scenario FILE or deployment flags (--model ...), not both");
    }
    if (s.load.levels.empty() && s.trace_path.empty()) {
      s.load.type = "closed";
      s.load.levels = {1, 2, 4, 8, 10, 16, 20, 24, 32};
    }
  }
  return list;
}

int default_jobs() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

int jobs_or_default(const std::optional<std::int64_t>& jobs) {
  return jobs ? static_cast<int>(*jobs) : default_jobs();
}

}  // namespace servetwin::cli
