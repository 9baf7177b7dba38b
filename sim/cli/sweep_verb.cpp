// `servetwin sweep`: a what-if grid (models x instances x TP x load levels), ranked by USD per 1M
// output tokens among the points that meet the SLO; lists what cannot run and why. Points are
// simulated on threads (or MPI ranks under mpirun) and streamed to sweep.jsonl / sweep.csv in grid
// order as they finish, so memory does not grow with the grid and --resume skips finished points
// (sim/plan/sweep_stream.hpp).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <memory>

#include "sim/catalog/catalog.hpp"
#include "sim/cli/numeric_flags.hpp"
#include "sim/cli/scenario_options.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/engine/serving_sim.hpp"
#include "sim/interval/stage_interval.hpp"
#include "sim/plan/sweep_stream.hpp"
#include "sim/plan/work_pool.hpp"
#include "sim/scenario/memory_budget.hpp"
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
  double interval_level = kDefaultIntervalLevel;
  bool json = false, resume = false;
};

// What defines the grid's results (not how it is run): a resumed sweep must match it.
nlohmann::json fingerprint(const SweepOptions& o) {
  return {{"models", o.models},     {"instances", o.instances}, {"tp", o.tps},           {"concurrency", o.concurrency},
          {"rate", o.rate},         {"engine", o.engine},       {"engine_set", o.engine_set}, {"workload", o.workload},
          {"arrival", o.arrival},   {"slo", o.slo},             {"duration_s", o.duration_s.value_or(Scenario{}.duration_s)}, {"seed", o.seed.value_or(Scenario{}.seed)},
          {"config_dir", o.config_dir}, {"interval_level", o.interval_level}};
}

// The resolvable configurations in grid order; the others go to `skipped` with their reason.
std::vector<Scenario> grid_scenarios(const Catalog& catalog, const SweepOptions& o, nlohmann::json& skipped) {
  std::vector<Scenario> scenarios;
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
  return scenarios;
}

// One grid point as its sweep.jsonl line.
std::string point_line(const Catalog& catalog, const Scenario& s, std::size_t level, std::size_t point,
                       const std::vector<SloTerm>& slo, const IntervalModel& intervals) {
  const auto& d = s.deployment;
  nlohmann::json j = {{"point", point}, {"model", d.model}, {"instance", d.instance}, {"tp", d.tp}};
  StageResult st;
  try {
    st = run_stage(catalog, s, static_cast<int>(level), false);
  } catch (const DoesNotFitError& e) {
    j["cannot_run"] = e.what();
    return j.dump();
  }
  nlohmann::json metrics = st.metrics.to_json();
  std::string violations = slo_violations(slo, metrics);
  if (!st.cost.contains("usd_per_1m_output_tokens") || st.cost["usd_per_1m_output_tokens"].is_null()) {
    violations += std::string(violations.empty() ? "" : ", ") + "no price";
  }
  metrics.erase("distributions");
  j["load"] = st.load;
  j["metrics"] = std::move(metrics);
  j["cost"] = st.cost;
  j["interval"] = interval_json(intervals, stage_regime(catalog, d, st.load_shape), j["metrics"], st.cost);
  if (!violations.empty()) j["slo_violations"] = violations;
  return j.dump();
}

// "[lo-hi]" of a point's interval for `metric`, "!" appended when out of evidence ("-" when it has none).
std::string bounds_text(const nlohmann::json& p, const char* metric) {
  if (!p.contains("interval") || !p["interval"]["bounds"].contains(metric)) return "-";
  const auto& b = p["interval"]["bounds"][metric];
  return fmt::format("[{:.2f}-{:.2f}]{}", b[0].get<double>(), b[1].get<double>(),
                     p["interval"]["out_of_evidence"].get<bool>() ? " out of evidence" : "");
}

// Reads each ranked point back as it prints it: memory stays flat however many points rank.
void print_sweep_table(SweepStream& stream, const SweepOutcome& r, const std::string& slo,
                       const std::vector<Scenario>& scenarios) {
  std::cout << fmt::format("{} configurations x load points simulated; {} meet the SLO ({})\n",
                           r.ranked.size() + r.failing.size(), r.ranked.size(), slo.empty() ? "none given" : slo);
  // The instance column fits the longest name shown (p6-b200.48xlarge is 16 characters).
  std::size_t inst_w = 14;
  for (const auto i : r.ranked) {
    inst_w = std::max(inst_w, scenarios[stream.entries()[i].config].deployment.instance.size());
  }
  std::cout << fmt::format("{:>4} {:<28} {:<{}} {:>3} {:>6} {:>9} {:>9} {:>8} {:>8}  {}\n", "rank", "model", "instance",
                           inst_w, "tp", "load", "out_tok/s", "ttft_p99", "tpot", "USD/1M", "USD/1M interval");
  int rank = 0;
  for (const auto i : r.ranked) {
    const nlohmann::json p = stream.read_point(i);
    const auto& m = p["metrics"];
    const auto& ld = p["load"];
    std::cout << fmt::format("{:>4} {:<28} {:<{}} {:>3} {:>6} {:>9.1f} {:>9.0f} {:>8.1f} {:>8.2f}  {}\n", ++rank,
                             p["model"].get<std::string>().substr(0, 28), p["instance"].get<std::string>(), inst_w,
                             p["tp"].get<int>(),
                             ld.contains("concurrency") ? fmt::format("{}", ld["concurrency"].get<std::int64_t>())
                                                        : fmt::format("{:g}/s", ld["rate_per_s"].get<double>()),
                             m["throughput_output_tok_s"].get<double>(), m["ttft_p99_ms"].get<double>(),
                             m["tpot_mean_ms"].get<double>(), p["cost"]["usd_per_1m_output_tokens"].get<double>(),
                             bounds_text(p, "usd_per_1m_output_tokens"));
  }
  if (!r.failing.empty()) std::cout << fmt::format("\n{} points miss the SLO (see --json for each violation)\n", r.failing.size());
  if (!r.cannot_run.empty()) {
    std::cout << "\ncannot run:\n";
    for (const auto& s : r.cannot_run) {
      std::cout << fmt::format("  {} on {} TP{}: {}\n", s["model"].get<std::string>(), s["instance"].get<std::string>(),
                               s["tp"].get<int>(), s["reason"].get<std::string>());
    }
  }
}

// Where the points stream: --out, or a scratch directory removed when the sweep ends.
struct StreamDir {
  std::filesystem::path path;
  bool scratch = false;
  explicit StreamDir(const std::string& out) : path(out), scratch(out.empty()) {
    if (scratch) path = std::filesystem::temp_directory_path() / fmt::format("servetwin-sweep-{}", ::getpid());
  }
  ~StreamDir() {
    std::error_code ec;
    if (scratch) std::filesystem::remove_all(path, ec);
  }
  StreamDir(const StreamDir&) = delete;
  StreamDir& operator=(const StreamDir&) = delete;
};

int run_sweep(const SweepOptions& o) {
  const Catalog catalog = Catalog::load(o.config_dir.empty() ? default_config_dir() : std::filesystem::path(o.config_dir));
  if (o.models.empty() || o.instances.empty()) throw UsageError("sweep needs --models and --instances");
  if (!o.concurrency.empty() && !o.rate.empty()) throw UsageError("give --concurrency or --rate, not both");
  if (o.resume && o.out.empty()) throw UsageError("--resume needs --out DIR (the sweep to continue)");
  const auto slo = parse_slo(o.slo);
  const IntervalModel intervals = load_interval_model(catalog, checked_interval_level(o.interval_level));
  nlohmann::json skipped = nlohmann::json::array();
  std::vector<Scenario> scenarios = grid_scenarios(catalog, o, skipped);
  const int jobs = o.jobs ? jobs_or_default(o.jobs) : default_jobs_per_rank();
  apply_memory_budget(catalog, scenarios, jobs, o.max_memory_bytes.value_or(default_memory_budget_bytes()));
  const std::size_t levels = scenarios.empty() ? 1 : scenarios.front().load.levels.size();
  const std::size_t points = scenarios.size() * levels;
  const bool root = process_rank() == 0;
  std::unique_ptr<StreamDir> dir;
  std::unique_ptr<SweepStream> stream;
  if (root) {
    dir = std::make_unique<StreamDir>(o.out);
    stream = std::make_unique<SweepStream>(dir->path, fingerprint(o), o.resume, levels);
  }
  const std::size_t first = root ? stream->finished() : 0;
  ProgressBar bar("sweeping", points, root && !o.json);
  const bool writes = run_ordered(
      std::min(first, points), points, jobs,
      [&](std::size_t i) { return point_line(catalog, scenarios[i / levels], i % levels, i, slo, intervals); },
      [&](std::size_t, std::string&& line) { stream->append(line); }, &bar);
  bar.finish();
  if (!writes) return kExitOk;
  stream->flush();
  const SweepOutcome outcome = summarize_sweep(*stream, skipped);
  if (!o.out.empty()) {
    std::ofstream doc(dir->path / "sweep.json", std::ios::binary | std::ios::trunc);
    write_sweep_document(doc, *stream, outcome, o.slo);
  }
  // No point that runs and meets the SLO: the grid cannot serve this load (exit 3, after the output).
  const int rc = outcome.ranked.empty() ? kExitCannotServe : kExitOk;
  if (rc != kExitOk) {
    std::cerr << fmt::format("servetwin sweep: no configuration x load point {} (exit {})\n",
                             o.slo.empty() ? "can run" : "meets the SLO " + o.slo, rc);
  }
  if (o.json) {
    write_sweep_document(std::cout, *stream, outcome, o.slo);
    std::cout << "\n";
    return rc;
  }
  print_sweep_table(*stream, outcome, o.slo, scenarios);
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
      add_duration_flag(cmd, "--duration", o->duration_s, limits::kDurationS,
                        "Per point: 30s, 2m, 500ms or a bare number of seconds (default 240)");
      add_seed_flag(cmd, "--seed", o->seed, "Seed (default 42)");
      add_integer_flag(cmd, "--jobs", o->jobs, limits::kJobs,
                       "Parallel simulations per process (default: the cores, shared among MPI ranks)");
      add_bytes_flag(cmd, "--max-memory", o->max_memory_bytes,
                     "Refuse a grid predicted to need more memory (default: 1 GB or a quarter of RAM if less)");
      cmd.add_option("--out", o->out, "Write sweep.jsonl and sweep.csv (streamed) and sweep.json here");
      cmd.add_flag("--resume", o->resume, "Continue the sweep in --out: keep its finished points, run the rest");
      cmd.add_option("--config-dir", o->config_dir, "Catalog directory");
      cmd.add_flag("--json", o->json, "Print JSON instead of tables");
      add_interval_level_option(cmd, o->interval_level);
      return [o] { return run_sweep(*o); };
    }}};

}  // namespace
}  // namespace servetwin::cli
