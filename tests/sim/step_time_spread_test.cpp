// The probed step-time spread (sim/engine/step_time_spread.hpp): parsing (scaled to mean 1) and its errors,
// the per-step draw (deterministic, uniform over the ratios), and its effect through the engine factory:
// every step lasts its modelled time x the ratio its index draws; without the setting nothing moves.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_base.hpp"
#include "sim/engine/serving_sim.hpp"
#include "sim/engine/step_time_spread.hpp"
#include "tests/sim/scheduler_table.hpp"

namespace servetwin {
namespace {

TEST(StepTimeSpread, RatiosAreScaledToMeanOne) {
  const StepTimeSpread s = StepTimeSpread::parse("1, 2,3", "k");  // mean 2
  EXPECT_EQ(s.ratios(), (std::vector<double>{0.5, 1.0, 1.5}));
  EXPECT_TRUE(StepTimeSpread().empty());
  EXPECT_DOUBLE_EQ(StepTimeSpread().ratio(12), 1.0);
}

TEST(StepTimeSpread, BadRatiosNameTheSetting) {
  for (const char* bad : {"", "1,1", "0.000,1,1", "1,-1,1", "1,x,1", "1,,1"}) {
    try {
      (void)StepTimeSpread::parse(bad, "engine setting step_time_ratios");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("engine setting step_time_ratios"), std::string::npos) << e.what();
    }
  }
}

// Each ratio is drawn with probability 1/n: over 20,000 steps every count is within 5 binomial standard
// deviations of 20,000/n, so the mean factor is 1 within 5 of its standard errors; the same index, the same draw.
TEST(StepTimeSpread, DrawIsDeterministicAndUniformPerStep) {
  const StepTimeSpread s = StepTimeSpread::parse("0.5,1,1.5,3", "k");  // mean 1.5: 1/3, 2/3, 1, 2
  constexpr int kSteps = 20000;
  std::map<double, int> counts;
  double sum = 0;
  for (std::uint64_t k = 0; k < kSteps; ++k) {
    ++counts[s.ratio(k)];
    sum += s.ratio(k);
    ASSERT_EQ(s.ratio(k), StepTimeSpread::parse("0.5,1,1.5,3", "k").ratio(k));
  }
  ASSERT_EQ(counts.size(), 4U);
  const double sd = std::sqrt(kSteps * 0.25 * 0.75);
  for (const auto& [r, n] : counts) EXPECT_NEAR(n, kSteps / 4.0, 5 * sd) << r;
  double var = 0;
  for (const double r : s.ratios()) var += (r - 1) * (r - 1) / 4;
  EXPECT_NEAR(sum / kSteps, 1.0, 5 * std::sqrt(var / kSteps));
}

// Four requests at t = 0 and nothing after: the same steps run whatever they last, so each step's duration
// with the spread is its duration without it x the ratio its index draws (1 ns rounding).
std::vector<TimeNs> step_durations(const std::map<std::string, std::string>& engine_set) {
  const Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  EngineSetup setup{"meta-llama/Llama-2-7b-hf", "H100-SXM", "none", 1, "vllm-0.15", engine_set, "fp16"};
  EventQueue q;
  testing_tables::Recorder rec;
  auto sim = build_serving_sim(catalog, setup, q, &rec);
  auto* engine = dynamic_cast<EngineBase*>(sim.get());
  EXPECT_NE(engine, nullptr);
  std::vector<TimeNs> out;
  engine->set_step_observer([&](const Step& s) { out.push_back(s.end_ns - s.start_ns); });
  for (std::uint64_t id = 0; id < 4; ++id) sim->submit(testing_tables::fixed_request(id, 200 + 50 * static_cast<std::int64_t>(id), 16), 0);
  while (q.step()) {
  }
  EXPECT_EQ(rec.done.size(), 4U);
  return out;
}

TEST(StepTimeSpread, EachStepLastsItsModelledTimeTimesItsRatio) {
  const std::vector<TimeNs> plain = step_durations({});
  ASSERT_GT(plain.size(), 10U);
  EXPECT_EQ(step_durations({{"step_time_ratios", "2,2,2"}}), plain);  // scaled to mean 1: no spread
  const std::string ratios = "0.5,1,1.5,3";
  const std::vector<TimeNs> spread = step_durations({{"step_time_ratios", ratios}});
  ASSERT_EQ(spread.size(), plain.size());
  const StepTimeSpread s = StepTimeSpread::parse(ratios, "k");
  int changed = 0;
  for (std::size_t k = 0; k < plain.size(); ++k) {
    EXPECT_NEAR(static_cast<double>(spread[k]), static_cast<double>(plain[k]) * s.ratio(k), 1.0) << "step " << k;
    changed += spread[k] != plain[k] ? 1 : 0;
  }
  EXPECT_GT(changed, 0);
}

}  // namespace
}  // namespace servetwin
