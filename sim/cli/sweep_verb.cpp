// `servetwin sweep`: a what-if grid (models x instances x TP x load levels) run in parallel, ranked by
// USD per 1M output tokens among the points that meet the SLO; lists what cannot run and why.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "sim/catalog/catalog.hpp"
#include "sim/cli/numeric_flags.hpp"
#include "sim/cli/scenario_options.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/scenario/memory_budget.hpp"
#include "sim/scenario/run_output.hpp"
#include "sim/scenario/slo.hpp"

namespace servetwin::cli {
namespace {

struct SweepOptions {
  std::vector<std::string> models, instances, engine_set;
  std::vector<double> tps, concurrency, rate;
  std::string engine = "tgis-rhoai-2024q1", workload = "openorca-32", arrival = "poisson", slo, out, config_dir;
  std::optional<double> duration_s, max_memory_bytes;
  std::optional<std::uint64_t> seed;
  std::optional<std::int64_t> jobs;
  bool json = false;
};

struct Point {
  std::size_t scenario = 0, stage = 0;
  double usd_per_1m = 0;
  std::string violations;
};

int run_sweep(const SweepOptions& o) {
  const Catalog catalog = Catalog::load(o.config_dir.empty() ? default_config_dir() : std::filesystem::path(o.config_dir));
  if (o.models.empty() || o.instances.empty()) throw UsageError("sweep needs --models and --instances");
  if (!o.concurrency.empty() && !o.rate.empty()) throw UsageError("give --concurrency or --rate, not both");
  const auto slo = parse_slo(o.slo);
  std::vector<Scenario> scenarios;
  nlohmann::json skipped = nlohmann::json::array();
  for (const auto& model : o.models) {
    for (const auto& inst_name : o.instances) {
      const InstanceSpec& inst = catalog.instance(inst_name);
      std::vector<int> tps;
      for (const double tp : o.tps) tps.push_back(static_cast<int>(tp));
      if (tps.empty()) tps = {inst.gpu_count};
      for (const int tp : tps) {
        Scenario s;
        s.deployment.model = model;
        s.deployment.instance = inst.name;
        s.deployment.tp = tp;
        s.deployment.engine = o.engine;
        apply_engine_set(o.engine_set, s.deployment.engine_set);
        s.workload = o.workload;
        s.load.type = o.rate.empty() ? "closed" : "open";
        s.load.levels = o.rate.empty() ? (o.concurrency.empty() ? std::vector<double>{10} : o.concurrency) : o.rate;
        s.load.arrival = o.arrival;
        s.duration_s = o.duration_s.value_or(s.duration_s);
        s.seed = o.seed.value_or(s.seed);
        if (tp > inst.gpu_count) {
          skipped.push_back({{"model", model}, {"instance", inst.name}, {"tp", tp},
                             {"reason", fmt::format("TP {} exceeds the {} GPUs of {}", tp, inst.gpu_count, inst.name)}});
          continue;
        }
        try {
          scenarios.push_back(resolve_scenario(catalog, s));
        } catch (const ConfigError& e) {
          if (!catalog.has_model(model)) throw;  // a typo is an input error, not a grid point
          skipped.push_back({{"model", model}, {"instance", inst.name}, {"tp", tp}, {"reason", e.what()}});
        }
      }
    }
  }
  const int jobs = jobs_or_default(o.jobs);
  apply_memory_budget(catalog, scenarios, jobs, o.max_memory_bytes.value_or(default_memory_budget_bytes()));
  const auto runs = run_scenarios(catalog, scenarios, jobs, false, true);
  std::vector<Point> ok, failing;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].error.empty()) {
      const auto& d = runs[i].scenario.deployment;
      skipped.push_back({{"model", d.model}, {"instance", d.instance}, {"tp", d.tp}, {"reason", runs[i].error}});
      continue;
    }
    for (std::size_t k = 0; k < runs[i].stages.size(); ++k) {
      const auto& st = runs[i].stages[k];
      Point p{i, k, 0, slo_violations(slo, st.metrics.to_json())};
      const auto& c = st.cost;
      if (!c.contains("usd_per_1m_output_tokens") || c["usd_per_1m_output_tokens"].is_null()) {
        p.violations += std::string(p.violations.empty() ? "" : ", ") + "no price";
        p.usd_per_1m = 0;
      } else {
        p.usd_per_1m = c["usd_per_1m_output_tokens"].get<double>();
      }
      (p.violations.empty() ? ok : failing).push_back(p);
    }
  }
  // Cheapest first; ties broken by grid order, so the ranking is deterministic.
  std::stable_sort(ok.begin(), ok.end(), [](const Point& a, const Point& b) { return a.usd_per_1m < b.usd_per_1m; });
  auto point_json = [&](const Point& p) {
    const auto& run = runs[p.scenario];
    const auto& st = run.stages[p.stage];
    nlohmann::json j = {{"model", run.scenario.deployment.model},
                        {"instance", run.scenario.deployment.instance},
                        {"tp", run.scenario.deployment.tp},
                        {"load", st.load},
                        {"metrics", st.metrics.to_json()},
                        {"cost", st.cost}};
    if (!p.violations.empty()) j["slo_violations"] = p.violations;
    j["metrics"].erase("distributions");
    return j;
  };
  nlohmann::json result;
  result["schema_version"] = kSummarySchemaVersion;
  result["slo"] = o.slo;
  result["ranked"] = nlohmann::json::array();
  for (const auto& p : ok) result["ranked"].push_back(point_json(p));
  result["failing_slo"] = nlohmann::json::array();
  for (const auto& p : failing) result["failing_slo"].push_back(point_json(p));
  result["cannot_run"] = skipped;
  if (!o.out.empty()) write_json_file(std::filesystem::path(o.out) / "sweep.json", result);
  // No point that runs and meets the SLO: the grid cannot serve this load (exit 3, after the output).
  const int rc = ok.empty() ? kExitCannotServe : kExitOk;
  if (rc != kExitOk) {
    std::cerr << fmt::format("servetwin sweep: no configuration x load point {} (exit {})\n",
                             o.slo.empty() ? "can run" : "meets the SLO " + o.slo, rc);
  }
  if (o.json) {
    std::cout << result.dump(2) << "\n";
    return rc;
  }
  std::cout << fmt::format("{} configurations x load points simulated; {} meet the SLO ({})\n", ok.size() + failing.size(),
                           ok.size(), o.slo.empty() ? "none given" : o.slo);
  // The instance column fits the longest name shown (p6-b200.48xlarge is 16 characters).
  std::size_t inst_w = 14;
  for (const auto& p : ok) inst_w = std::max(inst_w, runs[p.scenario].scenario.deployment.instance.size());
  std::cout << fmt::format("{:>4} {:<28} {:<{}} {:>3} {:>6} {:>9} {:>9} {:>8} {:>8}\n", "rank", "model", "instance",
                           inst_w, "tp", "load", "out_tok/s", "ttft_p99", "tpot", "USD/1M");
  int rank = 0;
  for (const auto& p : ok) {
    const auto& run = runs[p.scenario];
    const auto& m = run.stages[p.stage].metrics;
    const auto& ld = run.stages[p.stage].load;
    std::cout << fmt::format("{:>4} {:<28} {:<{}} {:>3} {:>6} {:>9.1f} {:>9.0f} {:>8.1f} {:>8.2f}\n", ++rank,
                             run.scenario.deployment.model.substr(0, 28), run.scenario.deployment.instance, inst_w,
                             run.scenario.deployment.tp,
                             ld.contains("concurrency") ? fmt::format("{}", ld["concurrency"].get<std::int64_t>())
                                                        : fmt::format("{:g}/s", ld["rate_per_s"].get<double>()),
                             m.throughput_output_tok_s, m.ttft_ms.p99, m.tpot_ms.mean, p.usd_per_1m);
  }
  if (!failing.empty()) std::cout << fmt::format("\n{} points miss the SLO (see --json for each violation)\n", failing.size());
  if (!skipped.empty()) {
    std::cout << "\ncannot run:\n";
    for (const auto& s : skipped) {
      std::cout << fmt::format("  {} on {} TP{}: {}\n", s["model"].get<std::string>(), s["instance"].get<std::string>(),
                               s["tp"].get<int>(), s["reason"].get<std::string>());
    }
  }
  return rc;
}

const VerbRegistration kSweep{Verb{
    "sweep", "What-if grid: models x instances x TP x load, ranked by USD per 1M tokens under an SLO",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<SweepOptions>();
      cmd.add_option("--models", o->models, "Models (comma-separated)")->delimiter(',')->required();
      cmd.add_option("--instances", o->instances, "Instances (comma-separated)")->delimiter(',')->required();
      add_number_list_flag(cmd, "--tp", o->tps, limits::kTp, "TP degrees (default: all GPUs of each instance)");
      add_number_list_flag(cmd, "--concurrency", o->concurrency, limits::kConcurrency,
                           "Closed-loop users per point (default 10)");
      add_number_list_flag(cmd, "--rate", o->rate, limits::kRatePerS, "Open-loop requests/s per point");
      cmd.add_option("--arrival", o->arrival, "Open-loop arrivals: poisson, constant, gamma:CV");
      cmd.add_option("--engine", o->engine, "Engine preset");
      cmd.add_option("--engine-set", o->engine_set, "Override an engine setting, KEY=VALUE (repeatable)");
      cmd.add_option("--workload", o->workload, "Catalog workload (default openorca-32)");
      cmd.add_option("--slo", o->slo, "Constraints, e.g. ttft_p99_ms<=2000,tpot_mean_ms<=100");
      add_number_flag(cmd, "--duration", o->duration_s, limits::kDurationS, "Seconds per point (default 240)");
      add_seed_flag(cmd, "--seed", o->seed, "Seed (default 42)");
      add_integer_flag(cmd, "--jobs", o->jobs, limits::kJobs, "Parallel simulations (default: all cores)");
      add_bytes_flag(cmd, "--max-memory", o->max_memory_bytes,
                     "Refuse a grid predicted to need more memory (default: 1 GB or a quarter of RAM if less)");
      cmd.add_option("--out", o->out, "Write sweep.json here");
      cmd.add_option("--config-dir", o->config_dir, "Catalog directory");
      cmd.add_flag("--json", o->json, "Print JSON instead of tables");
      return [o] { return run_sweep(*o); };
    }}};

}  // namespace
}  // namespace servetwin::cli
