// Open-loop send times with a warm-up: the measured arrivals are predict's gaps (stage_arrivals),
// started where the warm-up ends, whatever the warm-up.
#include <gtest/gtest.h>

#include <vector>

#include "live/load/open_loop_schedule.hpp"

namespace servetwin::testing {
namespace {

ArrivalSpec poisson(double rate) {
  ArrivalSpec s;
  s.rate_per_s = rate;
  return s;
}

// The next `n` gaps of predict's process for the spec.
std::vector<TimeNs> predict_gaps(const ArrivalSpec& spec, std::uint64_t seed, int n) {
  ArrivalProcess p = stage_arrivals(spec, seed);
  std::vector<TimeNs> out;
  for (int i = 0; i < n; ++i) out.push_back(p.next_gap_ns());
  return out;
}

// From here on `s` sends measured requests at `t` and then predict's gaps (seed 7), 50 of them.
void expect_predicts_arrivals_from(live::OpenLoopSchedule& s, const ArrivalSpec& spec, TimeNs t) {
  for (const TimeNs gap : predict_gaps(spec, 7, 50)) {
    EXPECT_FALSE(s.warmup());
    EXPECT_EQ(s.due_ns(), t);
    s.advance();
    t += gap;
  }
}

TEST(OpenLoopSchedule, WithoutWarmupItIsPredictsProcess) {
  const auto spec = poisson(20);
  live::OpenLoopSchedule s(spec, 7, 1000, 0, 0);
  expect_predicts_arrivals_from(s, spec, 1000);
}

TEST(OpenLoopSchedule, CountedWarmupLeavesPredictsGapsToTheMeasuredRequests) {
  const auto spec = poisson(20);
  live::OpenLoopSchedule s(spec, 7, 0, 0, 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(s.warmup()) << i;
    s.advance();
  }
  ASSERT_FALSE(s.warmup());
  EXPECT_GT(s.due_ns(), 0);
  expect_predicts_arrivals_from(s, spec, s.due_ns());
}

TEST(OpenLoopSchedule, TimedWarmupEndsAtItsEndAndTheMeasuredRequestsStartThere) {
  const auto spec = poisson(20);
  const TimeNs start = 5'000, warm = 1'000'000'000;
  live::OpenLoopSchedule s(spec, 7, start, warm, 0);
  int warmups = 0;
  while (s.warmup()) {
    EXPECT_LT(s.due_ns(), start + warm);
    s.advance();
    ++warmups;
  }
  EXPECT_GT(warmups, 5);  // ~20 expected in 1 s at 20/s
  expect_predicts_arrivals_from(s, spec, start + warm);
}

// The warm-up's own gaps are not predict's (an independent stream).
TEST(OpenLoopSchedule, WarmupGapsComeFromTheirOwnStream) {
  const auto spec = poisson(20);
  live::OpenLoopSchedule s(spec, 7, 0, 0, 3);
  s.advance();
  EXPECT_NE(s.due_ns(), predict_gaps(spec, 7, 1)[0]);
}

}  // namespace
}  // namespace servetwin::testing
