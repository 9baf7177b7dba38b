#pragma once
// One simulated load point of the planner: an open-loop stage at `rate_per_s` on `replicas` replicas of
// the scenario's deployment behind `router`, checked against the SLO. One replica runs the engine
// alone (the same run as `predict --rate`), so a single-replica probe equals predict's numbers.
#include <nlohmann/json.hpp>
#include <string>

#include "sim/plan/plan_slo.hpp"
#include "sim/plan/replica_router.hpp"
#include "sim/scenario/scenario.hpp"

namespace servetwin {

struct Probe {
  double rate_per_s = 0;
  int replicas = 1;
  bool met = false;
  std::string violations;
  double goodput = 1;
  double output_tok_s = 0, input_tok_s = 0;
  double ttft_p99_ms = 0, tpot_mean_ms = 0, e2e_p99_ms = 0;
};

// `s` must be resolved (resolve_scenario). Throws DoesNotFitError when the engine cannot start.
Probe run_probe(const Catalog& catalog, const Scenario& s, double rate_per_s, int replicas, RouterPolicy router,
                const PlanSlo& slo);

nlohmann::json to_json(const Probe& p);

}  // namespace servetwin
