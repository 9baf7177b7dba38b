// Strict number parsing and the rejection tally (issue 20): the readers used to accept "5abc" as 5,
// "1e12" as 1 and "nan" as a time; a closed loop above the admission limit stored every rejection.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/core/limits.hpp"
#include "sim/core/parse_number.hpp"
#include "sim/metrics/rejection_tally.hpp"

namespace servetwin {
namespace {

TEST(StrictNumbers, DoublesMustBeWholeAndFinite) {
  double v = 0;
  EXPECT_TRUE(parse_finite_double("2.5", v));
  EXPECT_EQ(v, 2.5);
  EXPECT_TRUE(parse_finite_double("+1e-3", v));
  EXPECT_EQ(v, 1e-3);
  for (const char* bad : {"", " 1", "1 ", "5abc", "nan", "inf", "-inf", "1e999", "0x10", "++1", "+-1", "1,5"}) {
    EXPECT_FALSE(parse_finite_double(bad, v)) << bad;
  }
}

TEST(StrictNumbers, IntegersRejectFractionsExponentsAndOverflow) {
  std::int64_t i = 0;
  EXPECT_TRUE(parse_int64("512", i));
  EXPECT_EQ(i, 512);
  EXPECT_TRUE(parse_int64("-3", i));
  EXPECT_EQ(i, -3);
  for (const char* bad : {"512.7", "1e12", "5abc", "", "99999999999999999999", "nan"}) {
    EXPECT_FALSE(parse_int64(bad, i)) << bad;
  }
  std::uint64_t u = 0;
  EXPECT_TRUE(parse_uint64("18446744073709551615", u));
  EXPECT_FALSE(parse_uint64("-1", u));
  EXPECT_FALSE(parse_uint64("18446744073709551616", u));
}

// --duration in predict, sweep and load: a number with unit ms, s, m or h, or bare seconds.
TEST(StrictNumbers, DurationsTakeOneUnitOrNone) {
  double v = -1;
  ASSERT_TRUE(parse_duration_seconds("90", v));
  EXPECT_DOUBLE_EQ(v, 90);
  ASSERT_TRUE(parse_duration_seconds("90s", v));
  EXPECT_DOUBLE_EQ(v, 90);
  ASSERT_TRUE(parse_duration_seconds("1.5m", v));
  EXPECT_DOUBLE_EQ(v, 90);
  ASSERT_TRUE(parse_duration_seconds("90000ms", v));
  EXPECT_DOUBLE_EQ(v, 90);
  ASSERT_TRUE(parse_duration_seconds("2h", v));
  EXPECT_DOUBLE_EQ(v, 7200);
  ASSERT_TRUE(parse_duration_seconds("-1s", v));  // the sign is the caller's range check
  EXPECT_DOUBLE_EQ(v, -1);
  for (const char* bad : {"", "s", "5x", "5 s", " 5s", "5sec", "5ss", "nan", "infs", "1e400s", "5s5"}) {
    v = -7;
    EXPECT_FALSE(parse_duration_seconds(bad, v)) << bad;
    EXPECT_DOUBLE_EQ(v, -7) << bad;
  }
}

TEST(Limits, NamesTheRangeAndRejectsNonIntegers) {
  EXPECT_EQ(limit_violation(512, limits::kConcurrency), "");
  EXPECT_EQ(limit_violation(1e9, limits::kConcurrency), "out of range; allowed: an integer in [1, 10000] users");
  EXPECT_NE(limit_violation(2.5, limits::kConcurrency), "");
  EXPECT_NE(limit_violation(0, limits::kRatePerS), "");  // (0, hi]: zero is not a rate
  EXPECT_NE(limit_violation(std::nan(""), limits::kDurationS), "");
}

TEST(RejectionTally, KeepsTheFirstRecordsAndCountsTheRest) {
  RejectionTally t;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < RejectionTally::kRecordsKept + 5; ++i) kept += t.count_and_keep() ? 1 : 0;
  EXPECT_EQ(kept, RejectionTally::kRecordsKept);
  EXPECT_EQ(t.dropped(), 5U);
  StageMetrics m;
  m.requests = RejectionTally::kRecordsKept + 10;  // what the kept records gave the metrics
  m.rejected = RejectionTally::kRecordsKept;
  m.completed = 10;
  t.add_dropped_to(m);
  EXPECT_EQ(m.rejected, RejectionTally::kRecordsKept + 5);
  EXPECT_EQ(m.requests, RejectionTally::kRecordsKept + 15);
  EXPECT_DOUBLE_EQ(m.rejection_rate, static_cast<double>(m.rejected) / static_cast<double>(m.requests));
  const auto j = t.to_json(10.0);
  EXPECT_EQ(j["count"], RejectionTally::kRecordsKept + 5);
  EXPECT_EQ(j["records_dropped"], 5);
  EXPECT_TRUE(RejectionTally().to_json(1.0).is_null());
}

}  // namespace
}  // namespace servetwin
