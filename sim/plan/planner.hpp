#pragma once
// `servetwin plan` end to end: every candidate planned (candidate_plan) on the work pool (threads, or
// MPI ranks under mpirun), then ranked: feasible plans cheapest first (USD/h after the discount, then
// USD per 1M output tokens, then grid order). The result is the plan.json document.
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/plan/candidate_plan.hpp"

namespace servetwin {

// clang-tidy 14 follows nlohmann::json's move constructor (declared noexcept) into throwing code
// paths and flags this struct's implicit moves; nothing can escape them (false positive).
// NOLINTNEXTLINE(bugprone-exception-escape)
struct PlanRun {
  nlohmann::json result;  // plan.json (rank 0 only; null elsewhere)
  bool root = true;       // this process writes the output
};

PlanRun run_plan(const Catalog& catalog, const PlanInputs& in, const std::vector<DeploymentConfig>& candidates, int jobs,
                 bool progress);

// The ranked candidate indices (feasible only), cheapest first.
std::vector<std::size_t> rank_plans(const nlohmann::json& candidates);

nlohmann::json plan_inputs_json(const PlanInputs& in);

}  // namespace servetwin
