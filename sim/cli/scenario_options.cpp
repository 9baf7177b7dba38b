#include "sim/cli/scenario_options.hpp"

#include <thread>

#include "sim/catalog/catalog.hpp"
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
  cmd.add_option("--num-gpus", o.d.num_gpus, "GPUs serving one replica (default: TP or all of the instance)");
  cmd.add_option("--tp", o.d.tp, "Tensor-parallel degree (default: number of GPUs)");
  cmd.add_option("--engine", o.d.engine, "Engine preset (servetwin list engines)");
  cmd.add_option("--engine-set", o.engine_set, "Override an engine setting, KEY=VALUE (repeatable)");
  cmd.add_option("--dtype", o.d.dtype, "Weights dtype: fp16, bf16, fp8");
}

void add_scenario_options(CLI::App& cmd, ScenarioOptions& o) {
  add_deployment_options(cmd, o.deployment);
  cmd.add_option("--scenario", o.scenario_file, "Scenario YAML file (configs/scenarios)");
  cmd.add_option("--workload", o.workload, "Catalog workload (servetwin list workloads)");
  cmd.add_option("--dataset", o.dataset, "llm-load-test v1 JSON or v2 JSONL dataset file");
  cmd.add_option("--trace", o.trace, "Trace CSV: arrived_at,num_prefill_tokens,num_decode_tokens");
  cmd.add_option("--concurrency", o.concurrency, "Closed-loop users per stage, e.g. 1,2,4")->delimiter(',');
  cmd.add_option("--rate", o.rate, "Open-loop requests/s per stage, e.g. 1,2.5")->delimiter(',');
  cmd.add_option("--arrival", o.arrival, "Open-loop arrivals: poisson, constant, gamma:CV");
  cmd.add_option("--max-in-flight", o.max_in_flight, "Open loop: client-side cap on requests in flight");
  cmd.add_option("--duration", o.duration_s, "Stage length in seconds (default 240)");
  cmd.add_option("--requests", o.requests, "Stop sending after this many requests per stage");
  cmd.add_option("--seed", o.seed, "Seed for every random stream (default 42)");
  cmd.add_option("--out", o.out, "Write summary.json and requests.csv to this directory");
  cmd.add_option("--jobs", o.jobs, "Parallel simulations (default: all cores)");
  cmd.add_option("--config-dir", o.config_dir, "Catalog directory (default: the shipped configs/)");
  cmd.add_flag("--json", o.json, "Print the summary JSON instead of tables");
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
    s.load.arrival = o.arrival == "poisson" ? s.load.arrival : o.arrival;
    if (o.max_in_flight > 0) s.load.max_in_flight = o.max_in_flight;
    if (o.duration_s != 240) s.duration_s = o.duration_s;
    if (o.requests > 0) s.max_requests = o.requests;
    if (o.seed != 42) s.seed = o.seed;
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

}  // namespace servetwin::cli
