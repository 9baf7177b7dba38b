// calibrate fit's step-time spread (calibrate/probe/probe_step_spread.hpp): from the lone phases' token
// messages, hand-built here: the ratios of a known step pattern come back, a pair of messages delivered
// together is dropped, gaps that are delivery jitter alone give no step spread, and a probe without its
// message files fits none and says why.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "calibrate/probe/probe_step_spread.hpp"

namespace servetwin::calibrate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// One lone phase: a directory with messages.csv of one request whose token messages arrive after the
// given gaps (ns), the first token at 40 ms.
json lone_phase(const fs::path& dir, const std::string& phase, const std::vector<double>& gaps_ns) {
  fs::create_directories(dir);
  std::ofstream out(dir / "messages.csv");
  out << "request_id,seq,t_ns,generated_tokens\n0,0,1000,0\n";
  double t = 40e6;
  out << "0,1," << static_cast<long long>(t) << ",1\n";
  for (std::size_t i = 0; i < gaps_ns.size(); ++i) {
    t += gaps_ns[i];
    out << "0," << i + 2 << "," << static_cast<long long>(t) << "," << i + 2 << "\n";
  }
  return {{"phase", phase}, {"concurrency", 1}, {"dir", dir.string()}, {"requests", json::array()}};
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("servetwin-step-spread-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(d);
  return d;
}

TEST(ProbeStepSpread, RecoversTheStepPatternAndDropsCoalescedMessages) {
  const fs::path d = temp_dir("pattern");
  // Steps of 8 and 12 ms in the pattern 8, 12, 12, 8 (lag-1 correlation 0 over a cycle): ratios 0.8 and 1.2
  // to the 10 ms mean. One request also has two messages delivered together: a 20 ms gap, then 200 ns.
  json phases = json::array();
  for (int p = 0; p < 4; ++p) {
    std::vector<double> gaps;
    gaps.reserve(66);
    for (int i = 0; i < 64; ++i) gaps.push_back((i % 4 == 0 || i % 4 == 3) ? 8e6 : 12e6);
    if (p == 2) gaps.insert(gaps.begin() + 30, {20e6, 200});
    phases.push_back(lone_phase(d / ("decode-c1-p" + std::to_string(p)), p % 2 ? "reference" : "decode", gaps));
  }
  // Not lone (concurrency 2) and not a lone phase kind: never read.
  phases.push_back({{"phase", "decode"}, {"concurrency", 2}, {"dir", (d / "nowhere").string()}});
  phases.push_back({{"phase", "prefill"}, {"concurrency", 1}, {"dir", (d / "nowhere").string()}});
  const StepSpreadFit f = fit_step_spread(phases);
  EXPECT_EQ(f.note, "");
  EXPECT_EQ(f.requests, 4);
  EXPECT_EQ(f.gaps, 4 * 64);  // the coalesced pair (20 ms + 200 ns) is not a step
  ASSERT_EQ(f.ratios.size(), static_cast<std::size_t>(kStepSpreadQuantiles));
  // The pattern's products of consecutive deviations (+-0.04) cancel by cycle, but 5 negative ones are left
  // over (63 pairs per request; one more where the dropped pair cuts a request): rho = -0.2 / (256 x 0.04)
  // = -0.0195, shrink sqrt(1 - 0.039) = 0.980, so the ratios come back 0.2 x 0.98 from 1.
  EXPECT_NEAR(f.lag1_correlation, -0.2 / 10.24, 1e-9);
  EXPECT_NEAR(f.delivery_shrink, 0.980, 0.001);
  EXPECT_NEAR(f.ratios.front(), 1 - 0.2 * f.delivery_shrink, 1e-9);
  EXPECT_NEAR(f.ratios.back(), 1 + 0.2 * f.delivery_shrink, 1e-9);
  EXPECT_NEAR(f.ratios[kStepSpreadQuantiles / 2 - 1], f.ratios.front(), 1e-9);  // half the steps at each
  EXPECT_NEAR(f.ratios[kStepSpreadQuantiles / 2], f.ratios.back(), 1e-9);
  fs::remove_all(d);
}

TEST(ProbeStepSpread, DeliveryJitterAloneIsNoStepSpread) {
  // Every step 10 ms, every other message 2 ms late: gaps 12, 8, 12, 8 ... (lag-1 correlation -1). The gaps
  // scatter by 20 %, the steps not at all: shrink sqrt(max(0, 1 - 2)) = 0, every ratio 1.
  const fs::path d = temp_dir("delivery");
  json phases = json::array();
  for (int p = 0; p < 4; ++p) {
    std::vector<double> gaps;
    gaps.reserve(64);
    for (int i = 0; i < 64; ++i) gaps.push_back(i % 2 ? 8e6 : 12e6);
    phases.push_back(lone_phase(d / ("decode-c1-p" + std::to_string(p)), "decode", gaps));
  }
  const StepSpreadFit f = fit_step_spread(phases);
  EXPECT_LT(f.lag1_correlation, -0.9);
  EXPECT_DOUBLE_EQ(f.delivery_shrink, 0.0);
  ASSERT_FALSE(f.ratios.empty());
  for (const double r : f.ratios) EXPECT_DOUBLE_EQ(r, 1.0);
  fs::remove_all(d);
}

TEST(ProbeStepSpread, NoMessageFilesNoSpreadAndTheNoteSaysWhy) {
  const fs::path d = temp_dir("missing");
  json phases = json::array();
  for (int p = 0; p < 3; ++p)
    phases.push_back({{"phase", "decode"}, {"concurrency", 1}, {"dir", (d / std::to_string(p)).string()}});
  const StepSpreadFit f = fit_step_spread(phases);
  EXPECT_TRUE(f.ratios.empty());
  EXPECT_NE(f.note.find("3 lone phases without a readable messages.csv"), std::string::npos) << f.note;
}

}  // namespace
}  // namespace servetwin::calibrate
