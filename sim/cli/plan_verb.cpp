// `servetwin plan`: the cheapest deployment that serves a target request rate within an SLO. For each
// candidate (model x instance/GPU x TP x engine x engine-setting values) it finds one replica's
// maximum sustainable rate by bisection, sizes replicas behind a router for the target (simulated,
// not divided), prices them, and ranks; see docs/planning.md. `--users N` plans for N closed-loop
// users instead of a rate: the search finds each replica's maximum users, on whole numbers.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <memory>

#include "sim/catalog/catalog.hpp"
#include "sim/cli/scenario_options.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/core/limits.hpp"
#include "sim/interval/interval_model.hpp"
#include "sim/plan/candidate_grid.hpp"
#include "sim/plan/plan_output.hpp"
#include "sim/plan/planner.hpp"
#include "sim/plan/work_pool.hpp"
#include "sim/workload/arrivals.hpp"

namespace servetwin::cli {
namespace {

struct PlanOptions {
  std::vector<std::string> models, instances, gpus, engines, engine_set, engine_range;
  std::vector<int> tps;
  std::string dtype = "fp16", workload = "openorca-32", dataset, arrival = "poisson", slo, router = "least-outstanding";
  std::string out, config_dir;
  double interval_level = kDefaultIntervalLevel;
  double rate_per_s = 0, duration_s = 120, budget_usd_h = 0, discount = 0, tolerance = 0.05, start_rate = 1;
  double min_rate = 0.01, max_rate = 1000;
  std::int64_t users = 0, max_users = 1024;
  bool rate_given = false, users_given = false;
  std::int64_t input_tokens = 0, output_tokens = 0;
  int max_gpus = 0, jobs = 0, max_extra_replicas = 3;
  std::uint64_t seed = 42;
  bool json = false;
};

// Exactly one of --rate (open loop, req/s) and --users (closed loop), each in range.
void check_target(const PlanOptions& o) {
  if (o.rate_given == o.users_given) {
    throw UsageError("give exactly one target: --rate (requests/s, open loop) or --users (concurrent closed-loop users)");
  }
  if (o.users_given) {
    if (o.users < 1 || o.users > static_cast<std::int64_t>(limits::kConcurrency.hi)) {
      throw UsageError(fmt::format("--users: a whole number of concurrent users from 1 to {:g}", limits::kConcurrency.hi));
    }
    if (o.max_users < 1 || o.max_users > static_cast<std::int64_t>(limits::kConcurrency.hi)) {
      throw UsageError(fmt::format("--max-users: the search cap per replica, 1 to {:g} users", limits::kConcurrency.hi));
    }
    return;
  }
  if (!(o.rate_per_s > 0)) throw UsageError("--rate: the target traffic in requests/s is required and must be > 0");
}

void check_ranges(const PlanOptions& o) {
  check_target(o);
  if (!(o.duration_s > 0)) throw UsageError("--duration: must be > 0 seconds");
  if (std::any_of(o.tps.begin(), o.tps.end(), [](int tp) { return tp < 1; })) throw UsageError("--tp: each degree must be >= 1");
  if (!(o.discount >= 0 && o.discount < 1)) throw UsageError("--discount: a fraction in [0, 1), e.g. 0.3 for 30% off");
  if (!(o.tolerance > 0 && o.tolerance <= 1)) throw UsageError("--rate-tolerance: a relative tolerance in (0, 1]");
  if (o.budget_usd_h < 0) throw UsageError("--budget-usd-h: must be >= 0 (0 = no budget)");
  if (o.max_gpus < 0) throw UsageError("--max-gpus: must be >= 0 (0 = no limit)");
  if (!(o.min_rate > 0 && o.min_rate <= o.start_rate && o.start_rate <= o.max_rate)) {
    throw UsageError("--min-rate <= --start-rate <= --max-rate, all > 0 requests/s");
  }
  if (o.max_extra_replicas < 0 || o.max_extra_replicas > 64) throw UsageError("--max-extra-replicas: 0 to 64");
  if ((o.input_tokens > 0) != (o.output_tokens > 0) || o.input_tokens < 0 || o.output_tokens < 0) {
    throw UsageError("--input-tokens and --output-tokens: give both, each >= 1");
  }
}

PlanInputs plan_inputs(const PlanOptions& o) {
  PlanInputs in;
  in.traffic.workload = o.workload;
  in.traffic.dataset_path = o.dataset;
  in.traffic.fixed_input_tokens = o.input_tokens;
  in.traffic.fixed_output_tokens = o.output_tokens;
  in.traffic.load.arrival = o.arrival;
  parse_arrival(o.arrival);  // a bad process is bad input before any simulation
  in.traffic.duration_s = o.duration_s;
  in.traffic.seed = o.seed;
  in.target_rate_per_s = o.rate_per_s;
  in.target_users = o.users_given ? o.users : 0;
  in.users_search = {1, o.max_users, o.tolerance};
  in.slo = parse_plan_slo(o.slo);
  in.router = parse_router(o.router);
  in.search = {o.start_rate, o.min_rate, o.max_rate, o.tolerance};
  if (o.budget_usd_h > 0) in.budget_usd_per_hour = o.budget_usd_h;
  in.max_gpus = o.max_gpus;
  in.discount = o.discount;
  in.max_extra_replicas = o.max_extra_replicas;
  return in;
}

int run_plan_verb(const PlanOptions& o) {
  check_ranges(o);
  const Catalog catalog = Catalog::load(o.config_dir.empty() ? default_config_dir() : std::filesystem::path(o.config_dir));
  PlanInputs in = plan_inputs(o);
  in.intervals = std::make_shared<const IntervalModel>(load_interval_model(catalog, checked_interval_level(o.interval_level)));
  CandidateSpace space;
  space.models = o.models;
  space.instances = o.instances;
  space.gpus = o.gpus;
  space.engines = o.engines;
  space.tps = o.tps;
  space.dtype = o.dtype;
  apply_engine_set(o.engine_set, space.engine_set);
  space.engine_ranges = parse_engine_ranges(o.engine_range);
  const auto candidates = expand_candidates(catalog, space);
  const PlanRun run = run_plan(catalog, in, candidates, o.jobs > 0 ? o.jobs : default_jobs_per_rank(), !o.json);
  if (!run.root) return kExitOk;
  if (!o.out.empty()) write_plan_outputs(o.out, run.result);
  if (o.json) {
    std::cout << run.result.dump(2) << "\n";
  } else {
    print_plan_table(std::cout, run.result);
    if (!o.out.empty()) std::cout << "\nwrote " << o.out << "/plan.json, plan.csv, pareto_throughput.csv, pareto_cost.csv\n";
  }
  return kExitOk;
}

void add_candidate_options(CLI::App& cmd, PlanOptions& o) {
  cmd.add_option("--models", o.models, "Models (comma-separated)")->delimiter(',')->required();
  cmd.add_option("--instances", o.instances, "Candidate instances (comma-separated)")->delimiter(',');
  cmd.add_option("--gpus", o.gpus, "Candidate GPUs: every catalog instance with one (comma-separated)")->delimiter(',');
  cmd.add_option("--tp", o.tps, "TP degrees (default 1, 2, 4, ... up to each instance's GPUs)")->delimiter(',');
  cmd.add_option("--engines", o.engines, "Engine presets (comma-separated; default tgis-rhoai-2024q1)")->delimiter(',');
  cmd.add_option("--engine-set", o.engine_set, "Fixed engine setting KEY=VALUE (repeatable)");
  cmd.add_option("--engine-range", o.engine_range, "Engine setting values to search, KEY=V1,V2,... (repeatable)");
  cmd.add_option("--dtype", o.dtype, "Weights dtype: fp16, bf16, fp8, fp4 (NVFP4; GPUs with FP4 tensor cores)");
}

void add_traffic_options(CLI::App& cmd, PlanOptions& o) {
  cmd.add_option_function<double>(
      "--rate", [&o](double v) { o.rate_per_s = v, o.rate_given = true; }, "Target traffic, requests/s (or --users)");
  cmd.add_option_function<std::int64_t>(
      "--users", [&o](std::int64_t v) { o.users = v, o.users_given = true; },
      "Target traffic as concurrent closed-loop users (or --rate)");
  cmd.add_option("--max-users", o.max_users, "With --users: search cap per replica, users (default 1024)");
  cmd.add_option("--arrival", o.arrival, "Arrivals: poisson, constant, gamma:CV");
  cmd.add_option("--workload", o.workload, "Catalog workload (default openorca-32)");
  cmd.add_option("--dataset", o.dataset, "llm-load-test v1 JSON or v2 JSONL dataset file");
  cmd.add_option("--input-tokens", o.input_tokens, "Synthetic: every request has this many prompt tokens");
  cmd.add_option("--output-tokens", o.output_tokens, "Synthetic: every request generates this many tokens");
  cmd.add_option("--duration", o.duration_s, "Seconds of arrivals per simulated point (default 120)");
  cmd.add_option("--seed", o.seed, "Seed (default 42)");
}

const VerbRegistration kPlan{Verb{
    "plan", "Cheapest deployment (replicas, settings, cost) that serves a target rate within an SLO",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<PlanOptions>();
      add_candidate_options(cmd, *o);
      add_traffic_options(cmd, *o);
      cmd.add_option("--slo", o->slo, "SLO, e.g. ttft_p99_ms<=2000,tpot_mean_ms<=60 or ttft_ms<=1000,goodput>=0.99")->required();
      cmd.add_option("--router", o->router, "Replica router: round-robin, least-outstanding, prefix-aware");
      cmd.add_option("--budget-usd-h", o->budget_usd_h, "Budget in USD per hour after the discount (0 = none)");
      cmd.add_option("--max-gpus", o->max_gpus, "Most GPUs to buy (0 = no limit)");
      cmd.add_option("--discount", o->discount, "Fraction off on-demand prices, e.g. 0.3 (default 0)");
      cmd.add_option("--rate-tolerance", o->tolerance, "Bisection stops when (fail - met) <= this x met (default 0.05; users: or 1)");
      cmd.add_option("--start-rate", o->start_rate, "First rate tried per replica, req/s (default 1)");
      cmd.add_option("--min-rate", o->min_rate, "Below this the SLO is 'not met at any load' (default 0.01)");
      cmd.add_option("--max-rate", o->max_rate, "Search cap per replica, req/s (default 1000)");
      cmd.add_option("--max-extra-replicas", o->max_extra_replicas, "Replicas tried beyond target / max rate (default 3)");
      cmd.add_option("--jobs", o->jobs, "Parallel simulations per process (default: the cores, shared among MPI ranks)");
      cmd.add_option("--out", o->out, "Write plan.json, plan.csv and the Pareto CSVs here");
      cmd.add_option("--config-dir", o->config_dir, "Catalog directory");
      cmd.add_flag("--json", o->json, "Print plan.json instead of tables");
      add_interval_level_option(cmd, o->interval_level);
      return [o] { return run_plan_verb(*o); };
    }}};

}  // namespace
}  // namespace servetwin::cli
