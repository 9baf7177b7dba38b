// servetwin plan (issue 19): SLO parsing, the replica router, the ordered work pool, Pareto fronts,
// the progress bar, and the planner against a brute-force grid of rates.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <stdexcept>

#include "sim/catalog/catalog.hpp"
#include "sim/plan/candidate_grid.hpp"
#include "sim/plan/pareto.hpp"
#include "sim/plan/plan_slo.hpp"
#include "sim/plan/planner.hpp"
#include "sim/plan/pricing.hpp"
#include "sim/plan/progress_bar.hpp"
#include "sim/plan/replica_router.hpp"
#include "sim/plan/work_pool.hpp"

namespace servetwin {
namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  return c;
}

TEST(PlanSlo, PerRequestLimitsGetADefaultGoodputAndAggregateTermsTheImpliedRejectionBound) {
  const PlanSlo a = parse_plan_slo("ttft_ms<=500,tpot_ms<=50");
  EXPECT_TRUE(a.per_request);
  EXPECT_DOUBLE_EQ(a.ttft_ms_max, 500);
  EXPECT_DOUBLE_EQ(a.goodput_min, 0.99);
  EXPECT_EQ(a.text, "ttft_ms<=500,tpot_ms<=50,goodput>=0.99");
  const PlanSlo b = parse_plan_slo("ttft_p99_ms<=2000,tpot_p99_ms<=80");
  EXPECT_FALSE(b.per_request);
  ASSERT_EQ(b.aggregate.size(), 3U);
  EXPECT_EQ(b.aggregate[2].metric, "rejection_rate");
}

TEST(PlanSlo, RejectsTermsThatCannotBeMet) {
  EXPECT_THROW(parse_plan_slo("tpot_mean_ms<=50"), ConfigError);  // no TTFT/E2E bound: overload would pass
  EXPECT_THROW(parse_plan_slo("goodput>=0.9,ttft_p99_ms<=100"), ConfigError);  // goodput of nothing
  EXPECT_THROW(parse_plan_slo("ttft_ms<=500,goodput>=1.5"), ConfigError);
  EXPECT_THROW(parse_plan_slo("ttft_ms<=-1"), ConfigError);
  EXPECT_THROW(parse_plan_slo("bogus<=3,ttft_ms<=5"), ConfigError);
}

TEST(PlanSlo, GoodputCountsRequestsWithinEveryLimitAndRejectedOnesAsMisses) {
  const PlanSlo slo = parse_plan_slo("ttft_ms<=100,goodput>=0.5");
  std::vector<RequestRecord> recs(4);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    recs[i].status = RequestStatus::kOk;
    recs[i].arrival_ns = 0;
    recs[i].first_token_ns = static_cast<TimeNs>(i == 0 ? 50 : 150) * kNsPerMs;
    recs[i].finish_ns = recs[i].first_token_ns + kNsPerMs;
    recs[i].output_tokens = 2;
  }
  recs[1].first_token_ns = 10 * kNsPerMs;
  recs[1].status = RequestStatus::kRejected;  // fast but rejected: a miss
  const nlohmann::json metrics = {{"rejection_rate", 0.25}};
  const SloCheck c = check_plan_slo(slo, metrics, recs);
  EXPECT_DOUBLE_EQ(c.goodput, 0.25);
  EXPECT_FALSE(c.met);
  EXPECT_NE(c.violations.find("goodput=0.25<0.5"), std::string::npos) << c.violations;
}

TEST(ParetoFront, KeepsOnlyNonDominatedPoints) {
  const std::vector<FrontPoint> pts{{1, 5}, {2, 4}, {2, 3}, {3, 1}, {0.5, 5}, {3, 1}};
  const auto max_both = pareto_front(pts, true, true);
  EXPECT_EQ(max_both, (std::vector<bool>{true, true, false, true, false, false}));
  const auto min_both = pareto_front(pts, false, false);
  EXPECT_EQ(min_both, (std::vector<bool>{false, false, true, true, true, false}));
}

TEST(ProgressBar, RendersFractionElapsedAndEta) {
  EXPECT_EQ(ProgressBar::render(5, 10, 2.0, 10), "[#####-----]  5/10 2.0 s ETA 2 s");
  EXPECT_EQ(ProgressBar::render(10, 10, 4.0, 4), "[####] 10/10 4.0 s done");
}

TEST(WorkPool, DeliversEveryResultInIndexOrderFromManyThreads) {
  std::vector<std::size_t> order;
  std::atomic<int> calls{0};
  run_ordered_threads(
      3, 500, 4,
      [&](std::size_t i) {
        ++calls;
        return std::to_string(i * i);
      },
      [&](std::size_t i, std::string&& r) {
        EXPECT_EQ(r, std::to_string(i * i));
        order.push_back(i);
      },
      nullptr);
  ASSERT_EQ(order.size(), 497U);
  for (std::size_t k = 0; k < order.size(); ++k) EXPECT_EQ(order[k], k + 3);
  EXPECT_EQ(calls.load(), 497);
  EXPECT_THROW(run_ordered_threads(
                   0, 50, 2, [](std::size_t i) -> std::string { return i == 7 ? throw std::runtime_error("x") : ""; },
                   [](std::size_t, std::string&&) {}, nullptr),
               std::runtime_error);
}

Scenario open_scenario(const std::string& instance, int tp, double rate) {
  Scenario s;
  s.deployment.model = "llama-2-7b";
  s.deployment.instance = instance;
  s.deployment.tp = tp;
  s.fixed_input_tokens = 512;
  s.fixed_output_tokens = 128;
  s.load.type = "open";
  s.load.levels = {rate};
  s.duration_s = 60;
  return resolve_scenario(catalog(), s);
}

TEST(ReplicaRouter, OneReplicaIsTheEngineItselfAndRoutersSplitTheLoad) {
  const Scenario s = open_scenario("g5.2xlarge", 1, 2.0);
  const StageResult plain = run_stage(catalog(), s, 0, true);
  const StageResult one = run_stage(catalog(), s, 0, true, replica_set_factory(catalog(), s.deployment, 1, RouterPolicy::kRoundRobin));
  EXPECT_EQ(plain.metrics.to_json().dump(), one.metrics.to_json().dump());
  for (const auto policy : {RouterPolicy::kRoundRobin, RouterPolicy::kLeastOutstanding}) {
    const StageResult three = run_stage(catalog(), s, 0, true, replica_set_factory(catalog(), s.deployment, 3, policy));
    EXPECT_EQ(three.records.size(), plain.records.size());  // same arrivals
    std::uint64_t routed = 0;
    for (const auto& r : three.engine_stats["replicas"]) {
      EXPECT_GT(r["routed"].get<std::uint64_t>(), three.records.size() / 6) << to_string(policy);
      routed += r["routed"].get<std::uint64_t>();
    }
    EXPECT_EQ(routed, three.records.size());
    // Three replicas at the rate of one queue less: TTFT cannot get worse.
    EXPECT_LE(three.metrics.ttft_ms.p99, plain.metrics.ttft_ms.p99) << to_string(policy);
  }
  EXPECT_THROW(parse_router("random"), ConfigError);
}

TEST(Pricing, PacksReplicasOntoWholeInstances) {
  const InstanceSpec& inst = catalog().instance("g5.12xlarge");  // 4 x A10G
  const ReplicaSetPrice p = price_replica_set(inst, 1, 5, 0.25, 1000, 4000);
  EXPECT_EQ(p.replicas_per_instance, 4);
  EXPECT_EQ(p.instances, 2);
  EXPECT_EQ(p.gpus, 8);
  EXPECT_DOUBLE_EQ(p.usd_per_hour, 2 * inst.on_demand.usd_per_hour);
  EXPECT_DOUBLE_EQ(p.usd_per_hour_discounted, 0.75 * p.usd_per_hour);
  EXPECT_DOUBLE_EQ(p.usd_per_1m_output_tok, p.usd_per_hour_discounted * 1e6 / (1000 * 3600.0));
}

// The bar "plan agrees with a brute-force grid": every candidate's maximum rate is checked against a
// 2% grid of rates (finer than the 5% bisection tolerance), and the cheapest configuration sized from
// the grid's rates is the one the planner recommends.
TEST(PlanAgreesWithBruteForce, SameBestConfigurationAndMaxRateWithinTolerance) {
  PlanInputs in;
  in.traffic.fixed_input_tokens = 512;
  in.traffic.fixed_output_tokens = 128;
  in.traffic.load.arrival = "constant";
  in.traffic.duration_s = 60;
  in.target_rate_per_s = 6;
  in.slo = parse_plan_slo("ttft_p99_ms<=1500,tpot_mean_ms<=60");
  in.search.tolerance_rel = 0.05;
  CandidateSpace space;
  space.models = {"llama-2-7b"};
  space.instances = {"g5.2xlarge", "g5.12xlarge"};
  const auto candidates = expand_candidates(catalog(), space);
  ASSERT_EQ(candidates.size(), 4U);  // g5.2xlarge TP1; g5.12xlarge TP1, 2, 4
  const PlanRun run = run_plan(catalog(), in, candidates, 2, false);
  const auto& plan = run.result;
  ASSERT_TRUE(plan["recommended"].is_number()) << plan.dump(1);
  double best_usd = 1e300;
  std::size_t best = candidates.size();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = plan["candidates"][i];
    const Scenario s = open_scenario(candidates[i].instance, candidates[i].tp, 1);
    double grid_max = 0;
    for (double r = 0.25; r <= 40; r *= 1.02) {
      if (run_probe(catalog(), [&] { Scenario t = s; t.load.arrival = "constant"; return t; }(), r, 1,
                    RouterPolicy::kRoundRobin, in.slo).met) {
        grid_max = r;
      }
    }
    const double bisect = c["max_rate_per_s"].get<double>();
    EXPECT_NEAR(grid_max, bisect, in.search.tolerance_rel * bisect) << candidates[i].instance << " TP" << candidates[i].tp;
    const int replicas = static_cast<int>(std::ceil(in.target_rate_per_s / grid_max));
    const auto price = price_replica_set(catalog().instance(candidates[i].instance), candidates[i].tp, replicas, 0, 1, 1);
    if (price.usd_per_hour < best_usd) {
      best_usd = price.usd_per_hour;
      best = i;
    }
  }
  EXPECT_EQ(plan["recommended"].get<std::size_t>(), best);
}

// The same bar for `plan --users`: every candidate's maximum closed-loop users is checked against
// every whole user count up to the cap (an exhaustive grid, so the true maximum lies in the bisection's
// bracket [met, fail) whose width is the stated tolerance, max(1, 15% of met)), and the cheapest
// configuration sized from the grid's maxima is the one the planner recommends.
TEST(PlanAgreesWithBruteForce, UsersSameBestConfigurationAndMaxUsersWithinTolerance) {
  PlanInputs in;
  in.traffic.fixed_input_tokens = 512;
  in.traffic.fixed_output_tokens = 128;
  in.traffic.duration_s = 60;
  in.target_users = 40;
  in.users_search = {1, 64, 0.15};
  in.slo = parse_plan_slo("ttft_p99_ms<=1500,tpot_mean_ms<=60");
  CandidateSpace space;
  space.models = {"llama-2-7b"};
  space.instances = {"g5.2xlarge", "g5.12xlarge"};
  const auto candidates = expand_candidates(catalog(), space);
  ASSERT_EQ(candidates.size(), 4U);
  const PlanRun run = run_plan(catalog(), in, candidates, 2, false);
  const auto& plan = run.result;
  ASSERT_TRUE(plan["recommended"].is_number()) << plan.dump(1);
  EXPECT_EQ(plan["inputs"]["load_kind"], "users");
  double best_usd = 1e300;
  std::size_t best = candidates.size();
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = plan["candidates"][i];
    const Scenario s = open_scenario(candidates[i].instance, candidates[i].tp, 1);
    std::int64_t grid_max = 0;
    for (std::int64_t users = 1; users <= in.users_search.max_users; ++users) {
      if (run_users_probe(catalog(), s, users, 1, RouterPolicy::kRoundRobin, in.slo).met) grid_max = users;
    }
    ASSERT_GT(grid_max, 0) << candidates[i].instance << " TP" << candidates[i].tp;
    ASSERT_LT(grid_max, in.users_search.max_users) << "the cap must not hide the threshold";
    const auto lo = c["max_users_bracket"][0].get<std::int64_t>();
    const auto hi = c["max_users_bracket"][1].get<std::int64_t>();
    EXPECT_EQ(c["max_users"].get<std::int64_t>(), lo);
    EXPECT_LE(static_cast<double>(hi - lo), std::max(1.0, in.users_search.tolerance_rel * static_cast<double>(lo)));
    EXPECT_GE(grid_max, lo) << candidates[i].instance << " TP" << candidates[i].tp;
    EXPECT_LT(grid_max, hi) << candidates[i].instance << " TP" << candidates[i].tp;
    EXPECT_EQ(c["at_target"]["users"].get<std::int64_t>(), in.target_users);
    const int replicas = static_cast<int>((in.target_users + grid_max - 1) / grid_max);
    const auto price = price_replica_set(catalog().instance(candidates[i].instance), candidates[i].tp, replicas, 0, 1, 1);
    if (price.usd_per_hour < best_usd) {
      best_usd = price.usd_per_hour;
      best = i;
    }
  }
  EXPECT_EQ(plan["recommended"].get<std::size_t>(), best);
}

}  // namespace
}  // namespace servetwin
