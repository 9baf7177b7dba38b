#pragma once
// The planner's SLO: the aggregate terms `sweep --slo` takes (ttft_p99_ms<=2000, tpot_mean_ms<=60,
// tpot_p99_ms, e2e_p99_ms, ...) plus per-request limits and a goodput fraction:
//   ttft_ms<=X, tpot_ms<=Y, e2e_ms<=Z   a request "meets" the SLO when it finished and is within each
//   goodput>=F                          at least a fraction F of all requests must meet it (default 0.99
//                                       when a per-request limit is given)
// Rejected requests never meet a per-request limit. Without a goodput term, at most 1% of requests may
// be rejected (rejection_rate<=0.01 is implied unless the SLO names rejection_rate itself).
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/metrics/request_record.hpp"
#include "sim/scenario/slo.hpp"

namespace servetwin {

struct PlanSlo {
  std::vector<SloTerm> aggregate;
  double ttft_ms_max = std::numeric_limits<double>::infinity();
  double tpot_ms_max = std::numeric_limits<double>::infinity();
  double e2e_ms_max = std::numeric_limits<double>::infinity();
  bool per_request = false;   // any per-request limit given
  double goodput_min = 0.99;  // used only when per_request
  std::string text;           // as resolved, for reports
};

// Throws ConfigError naming the bad term and the allowed names. An SLO must bound a latency that
// includes queueing (a TTFT or E2E term): otherwise an overloaded server, whose queue grows without
// end, would "meet" it and the maximum rate would be meaningless. The rule holds for closed loops
// (plan --users) as well: their queue is bounded by the users, but users beyond what the engine batches
// wait in it, and TPOT stops rising there (measured on llama-2-7b / g5.2xlarge: TPOT 64-66 ms from 32 to
// 1024 users while TTFT p50 went 3.9 s -> 31-45 s), so a TPOT-only SLO would pass any user count.
PlanSlo parse_plan_slo(const std::string& text);

struct SloCheck {
  bool met = false;
  std::string violations;  // empty when met
  double goodput = 1;      // fraction of requests meeting the per-request limits (1 when none)
};

// `metrics` is StageMetrics::to_json() of the stage; `records` its requests.
SloCheck check_plan_slo(const PlanSlo& slo, const nlohmann::json& metrics, const std::vector<RequestRecord>& records);

}  // namespace servetwin
