#pragma once
// One simulated load point of the planner: an open-loop stage at `rate_per_s` on `replicas` replicas of
// the scenario's deployment behind `router`, checked against the SLO. One replica runs the engine
// alone (the same run as `predict --rate`), so a single-replica probe equals predict's numbers.
// `plan --users` probes a closed loop instead (run_users_probe): `users` concurrent users, each sending
// its next request when the last one finishes, routed across the replicas by the same router.
#include <nlohmann/json.hpp>
#include <string>

#include "sim/plan/plan_slo.hpp"
#include "sim/plan/replica_router.hpp"
#include "sim/scenario/scenario.hpp"

namespace servetwin {

struct Probe {
  double rate_per_s = 0;      // open loop: the offered rate; closed loop: the achieved request rate
  std::int64_t users = 0;     // closed loop only (0: open loop)
  int replicas = 1;
  bool met = false;
  std::string violations;
  double goodput = 1;
  double output_tok_s = 0, input_tok_s = 0;
  double ttft_p99_ms = 0, tpot_mean_ms = 0, e2e_p99_ms = 0;
  LoadShape load_shape;       // how queued the probe ran (its prediction interval's load regime)
};

// `s` must be resolved (resolve_scenario). Throws DoesNotFitError when the engine cannot start.
Probe run_probe(const Catalog& catalog, const Scenario& s, double rate_per_s, int replicas, RouterPolicy router,
                const PlanSlo& slo);

// A closed-loop probe: `users` concurrent users on `replicas` replicas behind `router`.
Probe run_users_probe(const Catalog& catalog, const Scenario& s, std::int64_t users, int replicas, RouterPolicy router,
                      const PlanSlo& slo);

nlohmann::json to_json(const Probe& p);

}  // namespace servetwin
