#pragma once
// Plans one candidate deployment: maximum sustainable rate of one replica under the SLO (rate_search),
// replicas for the target traffic simulated behind the router (starting from target / max rate, then
// up until the SLO holds, and one step down when pooling lets fewer replicas carry it), price, and the
// limits. The result is JSON, the record plan.json lists per candidate; `status` is "ok" or "rejected"
// with `reason_kind` (invalid, memory, slo, no_price, target, budget, max_gpus) and `reason`.
// With `target_users` (plan --users) the load is a closed loop: the search finds one replica's maximum
// users (max_users), and the replicas are sized for the target users, routed by the router (simulated).
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>

#include "sim/plan/plan_slo.hpp"
#include "sim/plan/rate_search.hpp"
#include "sim/plan/replica_router.hpp"
#include "sim/scenario/scenario.hpp"

namespace servetwin {

class IntervalModel;

struct PlanInputs {
  Scenario traffic;                  // workload / dataset / fixed lengths, arrival, duration, seed
  double target_rate_per_s = 0;      // open loop (plan --rate) when target_users is 0
  std::int64_t target_users = 0;     // closed loop (plan --users) when > 0
  UsersSearchSettings users_search;
  PlanSlo slo;
  RouterPolicy router = RouterPolicy::kLeastOutstanding;
  RateSearchSettings search;
  double budget_usd_per_hour = std::numeric_limits<double>::infinity();  // after the discount
  int max_gpus = 0;                  // 0: no limit
  double discount = 0;               // fraction off the on-demand price
  int max_extra_replicas = 3;        // replicas tried beyond ceil(target / max rate)
  // Prediction intervals put on every probe (sim/interval); null: none (tests that plan without a table).
  std::shared_ptr<const IntervalModel> intervals;
};

[[nodiscard]] inline bool plans_users(const PlanInputs& in) { return in.target_users > 0; }

nlohmann::json plan_candidate(const Catalog& catalog, const PlanInputs& in, const DeploymentConfig& candidate);

}  // namespace servetwin
