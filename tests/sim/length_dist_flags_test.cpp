// --input-tokens / --output-tokens forms (sim/workload/length_dist.hpp), shared by predict and load.
#include <gtest/gtest.h>

#include <string>

#include "sim/catalog/catalog.hpp"
#include "sim/workload/length_dist.hpp"

namespace servetwin {
namespace {

TEST(LengthDistFlags, ParsesEachForm) {
  const LengthDist fixed = parse_length_dist("512", "--input-tokens");
  EXPECT_EQ(fixed.kind, "fixed");
  EXPECT_DOUBLE_EQ(fixed.mean, 512);
  const LengthDist normal = parse_length_dist("normal:512,64", "--input-tokens");
  EXPECT_EQ(normal.kind, "normal");
  EXPECT_DOUBLE_EQ(normal.mean, 512);
  EXPECT_DOUBLE_EQ(normal.stddev, 64);
  const LengthDist uniform = parse_length_dist("uniform:128,1024", "--output-tokens");
  EXPECT_EQ(uniform.kind, "uniform");
  EXPECT_DOUBLE_EQ(uniform.min, 128);
  EXPECT_DOUBLE_EQ(uniform.max, 1024);
  EXPECT_DOUBLE_EQ(uniform.mean, 576);
  const LengthDist logn = parse_length_dist("lognormal:230,180", "--input-tokens");
  EXPECT_EQ(logn.kind, "lognormal");
  EXPECT_DOUBLE_EQ(logn.stddev, 180);
  // Draws stay inside a uniform's bounds.
  Rng rng = make_rng(1, "length-dist-flags-test");
  for (int i = 0; i < 1000; ++i) {
    const auto n = draw_length(uniform, rng);
    ASSERT_GE(n, 128);
    ASSERT_LE(n, 1024);
  }
}

TEST(LengthDistFlags, BadFormsNameTheFlagAndTheAllowedForms) {
  for (const std::string bad : {"0", "12.5", "-3", "normal:5", "normal:a,3", "uniform:900,100", "zipf:1,2", "normal:5,-1",
                                "", "uniform:1,2,3"}) {
    try {
      parse_length_dist(bad, "--output-tokens");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ConfigError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("--output-tokens '" + bad + "'"), std::string::npos) << what;
      EXPECT_NE(what.find(kLengthDistForms), std::string::npos) << what;
    }
  }
}

}  // namespace
}  // namespace servetwin
