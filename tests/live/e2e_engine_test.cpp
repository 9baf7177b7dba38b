// The runner against the twin serving the REAL engine model (make_serving_sim, Llama-2-7B on
// g5.2xlarge, TGIS preset): measured throughput, TTFT p50 and TPOT mean within 5% of the same
// closed loop simulated in-process. Built only when the engine factory exists in the tree.
#include <gtest/gtest.h>

#include <cstdlib>

#include "sim/catalog/catalog.hpp"
#include "sim/scenario/deployment.hpp"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {


live::SimFactory engine_factory(const Catalog& catalog) {
  DeploymentConfig d;
  d.model = "llama-2-7b";
  d.instance = "g5.2xlarge";
  return [&catalog, d](EventQueue& q, SimListener* l) { return make_serving_sim(catalog, d, q, l); };
}

class RunnerVsEngineModel : public ::testing::TestWithParam<int> {};

// One real-time run and its in-process simulation; returns true when all three metrics are
// within 5%. Only the final attempt asserts.
bool attempt_within_5_percent(int users, int attempt, bool final_attempt) {
  const std::int64_t total = users == 1 ? 8 : users * 4;
  const Catalog catalog = Catalog::load(default_config_dir());
  const TwinVsSim run = run_twin_vs_sim(engine_factory(catalog), 5, "engine", users, total, attempt);
  if (final_attempt) {
    EXPECT_LT(run.e_thr, 0.05);
    EXPECT_LT(run.e_ttft, 0.05);
    EXPECT_LT(run.e_tpot, 0.05);
  }
  if (std::getenv("SERVETWIN_LIVE_DUMP") != nullptr) {
    auto dump = [](const char* what, const std::vector<RequestRecord>& v) {
      std::vector<double> t;
      for (const auto& r : v) t.push_back(ns_to_ms(r.first_token_ns - r.arrival_ns));
      std::sort(t.begin(), t.end());
      std::cerr << what;
      for (const double x : t) std::cerr << " " << static_cast<int>(x);
      std::cerr << "\n";
    };
    dump("live ttft", run.live_recs);
    dump("sim  ttft", run.sim_recs);
  }
  return run.within(0.05);
}

TEST_P(RunnerVsEngineModel, Within5Percent) {
  // The TGIS engine model's closed loop can settle in one of two phases (at c=8 TTFT p50 ~192 or
  // ~200 ms), decided by which of the requests the twin took at one instant went first; the
  // in-process simulation replays the twin's order (server_timing), so it follows the live run
  // into the same phase. Real-time runs still share the machine's 2 cores with whatever else runs
  // (CI builds in parallel), so up to three attempts, each < 10 s; the last asserts.
  const int users = GetParam();
  for (int a = 1; a <= 3; ++a) {
    if (attempt_within_5_percent(users, a, a == 3)) break;
  }
}

INSTANTIATE_TEST_SUITE_P(Concurrency, RunnerVsEngineModel, ::testing::Values(1, 8, 32));

}  // namespace
}  // namespace servetwin::testing
