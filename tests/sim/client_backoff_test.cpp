// The client backoff shared by `servetwin load` and the simulator's closed loop (--client-backoff):
// the wait rule, and that the simulated closed loop applies it only when asked.
#include <gtest/gtest.h>

#include "sim/catalog/catalog.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/workload/client_backoff.hpp"

namespace servetwin {
namespace {

TEST(ClientBackoff, ExponentialWithEqualJitterAndCap) {
  ClientBackoff b(ClientBackoffSpec{}, 42, 0);
  double step_s = 0.1;
  for (int k = 1; k <= 10; ++k) {
    const double wait_s = ns_to_seconds(b.on_refused(0, -1));
    const double capped = std::min(step_s, 10.0);
    EXPECT_GE(wait_s, 0.5 * capped) << "refusal " << k;
    EXPECT_LT(wait_s, capped + 1e-9) << "refusal " << k;
    step_s *= 2;
  }
  b.on_served(0);  // starts over
  EXPECT_LT(ns_to_seconds(b.on_refused(0, -1)), 0.1 + 1e-9);
  EXPECT_EQ(b.waits(), 11);
}

TEST(ClientBackoff, RetryAfterIsHonouredAndBounded) {
  ClientBackoff b(ClientBackoffSpec{}, 42, 0);
  EXPECT_EQ(b.on_refused(3, 2), 2 * kNsPerS);        // user 3, first refusal: exactly what the server said
  EXPECT_EQ(b.on_refused(3, 3600), 60 * kNsPerS);    // bounded by max_retry_after_s
  const auto j = b.to_json();
  EXPECT_EQ(j["retry_after_waits"], 2);
  EXPECT_DOUBLE_EQ(j["total_wait_s"].get<double>(), 62.0);
  EXPECT_DOUBLE_EQ(j["max_wait_s"].get<double>(), 60.0);
}

TEST(ClientBackoff, UsersAreIndependentAndRunsReproducible) {
  ClientBackoff a(ClientBackoffSpec{}, 7, 1), b(ClientBackoffSpec{}, 7, 1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a.on_refused(i % 2, -1), b.on_refused(i % 2, -1));
  // User 0 was refused three times, user 1 twice: their next steps are 0.8 s and 0.4 s.
  EXPECT_GE(a.on_refused(0, -1), seconds_to_ns(0.5 * 0.8));
  EXPECT_LT(a.on_refused(1, -1), seconds_to_ns(0.4) + 1);
}

// The TGIS preset capped at 8 requests with 12 users: the default closed loop retries every 10 ms
// (unchanged predictions); with --client-backoff the refused users wait, so far fewer rejections,
// and the summary says how long they waited.
TEST(ClientBackoff, SimulatedClosedLoopBacksOffOnlyWhenAsked) {
  const Catalog catalog = Catalog::load(default_config_dir());
  Scenario s;
  s.deployment.model = "meta-llama/Llama-2-7b-hf";
  s.deployment.instance = "g5.2xlarge";
  s.deployment.engine = "tgis-rhoai-2024q1";
  s.deployment.engine_set["max_concurrent_requests"] = "8";
  s.load.type = "closed";
  s.load.levels = {12};
  s.duration_s = 20;
  s = resolve_scenario(catalog, s);
  const StageResult plain = run_stage(catalog, s, 0, false);
  s.client_backoff = true;
  const StageResult backed_off = run_stage(catalog, s, 0, false);
  EXPECT_TRUE(plain.client_backoff.is_null());
  ASSERT_FALSE(backed_off.client_backoff.is_null());
  EXPECT_EQ(backed_off.client_backoff["waits"].get<std::uint64_t>(), backed_off.metrics.rejected);
  EXPECT_GT(backed_off.metrics.rejected, 0U);
  // Every simulated refusal costs its user at least 0.05 s: 12 users x 20 s / 0.05 s bounds them;
  // the 10 ms retry of the default loop makes far more.
  EXPECT_LE(backed_off.metrics.rejected, 12U * 400U);
  EXPECT_GT(plain.metrics.rejected, 2 * backed_off.metrics.rejected);
  // The 8 admitted slots stay busy either way: throughput within 5% (the refused users only wait).
  EXPECT_NEAR(backed_off.metrics.throughput_output_tok_s, plain.metrics.throughput_output_tok_s,
              0.05 * plain.metrics.throughput_output_tok_s);
}

}  // namespace
}  // namespace servetwin
