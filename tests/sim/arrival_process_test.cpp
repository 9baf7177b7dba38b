// The open-loop arrival process shared by predict and load (moved here from the live runner's tests
// when the live copy was deleted).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "sim/catalog/catalog.hpp"
#include "sim/workload/arrivals.hpp"

namespace servetwin {
namespace {

TEST(ArrivalProcess, MeansAndVariability) {
  for (const auto& text : {std::string("poisson"), std::string("constant"), std::string("gamma:2")}) {
    ArrivalSpec spec = parse_arrival(text);
    spec.rate_per_s = 10.0;
    ArrivalProcess g = stage_arrivals(spec, 3);
    const int n = 20000;
    double sum = 0, sq = 0;
    for (int i = 0; i < n; ++i) {
      const double x = ns_to_seconds(g.next_gap_ns());
      sum += x;
      sq += x * x;
    }
    const double mean = sum / n;
    const double cv = std::sqrt(std::max(0.0, sq / n - mean * mean)) / mean;
    // 20,000 gaps: the sample mean's standard error is CV/sqrt(n) < 1.5% of the mean.
    EXPECT_NEAR(mean, 0.1, 0.005) << text;
    const double want_cv = text == "constant" ? 0.0 : text == "poisson" ? 1.0 : 2.0;
    EXPECT_NEAR(cv, want_cv, 0.08) << text;
  }
  EXPECT_THROW(parse_arrival("gamma:-1"), ConfigError);
  EXPECT_THROW(parse_arrival("bursty"), ConfigError);
}

// A stage's arrivals depend on the seed and the rate (its stream), nothing else.
TEST(ArrivalProcess, StageArrivalsKeyedBySeedAndRate) {
  ArrivalSpec spec = parse_arrival("poisson");
  spec.rate_per_s = 4;
  ArrivalProcess a = stage_arrivals(spec, 7), b = stage_arrivals(spec, 7), c = stage_arrivals(spec, 8);
  bool differs = false;
  for (int i = 0; i < 20; ++i) {
    const TimeNs ga = a.next_gap_ns();
    EXPECT_EQ(ga, b.next_gap_ns());
    differs = differs || ga != c.next_gap_ns();
  }
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace servetwin
