// The probed front-end spread (sim/engine/front_end_spread.hpp): parsing and its errors, the per-request
// draw (deterministic, uniform over the measured ratios), and its effect in the vLLM engine: a request
// enters the scheduler (r - median) x its lone TTFT after api_ttft_ns; without the setting nothing moves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/core/event_priority.hpp"
#include "sim/engine/engine_registry.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/engine/front_end_spread.hpp"
#include "sim/engine/vllm_engine.hpp"
#include "tests/sim/scheduler_table.hpp"

namespace servetwin {
namespace {

TEST(FrontEndSpread, ExcessIsRatioAboveTheMedian) {
  const FrontEndSpread odd = FrontEndSpread::parse("1.2,0.9,1.0", "k");
  EXPECT_EQ(odd.excess(), (std::vector<double>{0.19999999999999996, 0.0, 0.0}));
  const FrontEndSpread even = FrontEndSpread::parse("0.8, 1.0 ,1.2,1.6", "k");  // median 1.1
  ASSERT_EQ(even.excess().size(), 4U);
  EXPECT_DOUBLE_EQ(even.excess()[0], 0.0);
  EXPECT_DOUBLE_EQ(even.excess()[1], 0.0);
  EXPECT_NEAR(even.excess()[2], 0.1, 1e-12);
  EXPECT_NEAR(even.excess()[3], 0.5, 1e-12);
  EXPECT_TRUE(FrontEndSpread().empty());
}

TEST(FrontEndSpread, BadRatiosNameTheSetting) {
  for (const char* bad : {"", "1,1", "1,x,1", "1,0,1", "1,-2,1", "1,1e9,1", "1,,1", "1,2abc,1", "nan,1,1"}) {
    try {
      (void)FrontEndSpread::parse(bad, "engine setting api_ttft_spread_ratios");
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("engine setting api_ttft_spread_ratios"), std::string::npos) << e.what();
    }
  }
}

TEST(FrontEndSpread, DrawIsDeterministicPerRequest) {
  const FrontEndSpread a = FrontEndSpread::parse("0.9,1.0,1.1,1.3,2.0", "k");
  const FrontEndSpread b = FrontEndSpread::parse("0.9,1.0,1.1,1.3,2.0", "k");
  for (std::uint64_t id = 0; id < 200; ++id) {
    EXPECT_EQ(a.extra_ns(id, 1e6), b.extra_ns(id, 1e6));
    EXPECT_EQ(a.extra_ns(id, 1e6), a.extra_ns(id, 1e6));
  }
  EXPECT_EQ(a.extra_ns(7, 0), 0);  // nothing to scale
}

// Each measured ratio is drawn with probability 1/n: over 20,000 ids every count is within 5 binomial
// standard deviations of 20,000/n, and the mean extra delay is the mean excess x the lone TTFT.
TEST(FrontEndSpread, DrawIsUniformOverTheMeasuredRatios) {
  const FrontEndSpread s = FrontEndSpread::parse("1.0,1.0,1.0,1.5,3.0", "k");  // excess 0,0,0,0.5,2.0
  constexpr int kIds = 20000;
  constexpr double kLoneNs = 1e6;
  std::map<TimeNs, int> counts;
  double sum = 0;
  for (std::uint64_t id = 0; id < kIds; ++id) {
    const TimeNs x = s.extra_ns(id, kLoneNs);
    ++counts[x];
    sum += static_cast<double>(x);
  }
  ASSERT_EQ(counts.size(), 3U);  // 0, 0.5 ms, 2 ms
  const double p = 0.2, sd = std::sqrt(kIds * p * (1 - p));
  EXPECT_NEAR(counts[0], kIds * 3 * p, 5 * std::sqrt(kIds * 0.6 * 0.4));
  EXPECT_NEAR(counts[500000], kIds * p, 5 * sd);
  EXPECT_NEAR(counts[2000000], kIds * p, 5 * sd);
  EXPECT_NEAR(sum / kIds, (0.5 + 2.0) / 5 * kLoneNs, 5 * sd / kIds * 2.0 * kLoneNs);
}

// In the engine: the time each request's prefill is first planned, for lone requests far apart.
std::vector<TimeNs> first_plan_times(const std::map<std::string, std::string>& extra, std::vector<double>* lone_ns = nullptr) {
  const Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  const ModelSpec& model = catalog.model("meta-llama/Llama-2-7b-hf");
  const GpuSpec& gpu = catalog.gpu("H100-SXM");
  std::map<std::string, std::string> o = {{"api_ttft_ns", "5000000"}, {"async_scheduling", "false"}};
  o.insert(extra.begin(), extra.end());
  EngineSettings settings(catalog.engine("vllm-0.15"), o);
  CostModel cost(model, gpu, catalog.profile(gpu.name), catalog.interconnect("none"), 1, "fp16", EngineCostParams{});
  if (lone_ns != nullptr) {
    StepShape lone;
    lone.prefill_seqs = 1;
    lone.prefill_tokens = 300;
    lone.prefill_attn_pairs = 300.0 * 301 / 2;
    lone.lm_head_tokens = 1;
    lone_ns->push_back(5e6 + cost.step(lone).total_ns);
  }
  EventQueue q;
  testing_tables::Recorder rec;
  VllmEngine engine(q, &rec, std::move(cost), model, gpu, settings);
  (void)read_engine_cost_params(settings, gpu, catalog.profile(gpu.name));
  settings.finish();
  std::map<std::uint64_t, TimeNs> first;
  engine.observe_steps([&](const Step& s, std::int64_t) {
    for (const auto& i : s.items) first.emplace(i.req->in.id, q.now());
  });
  constexpr TimeNs kApartNs = 10'000'000'000;  // 10 s: every request runs alone
  for (std::uint64_t id = 0; id < 40; ++id) {
    q.schedule(static_cast<TimeNs>(id) * kApartNs, [&engine, &q, id] {
      engine.submit(testing_tables::fixed_request(id, 300, 4), q.now());
    }, EventPriority::kArrival);
  }
  while (q.step()) {
  }
  std::vector<TimeNs> out;
  for (std::uint64_t id = 0; id < 40; ++id) out.push_back(first.at(id) - static_cast<TimeNs>(id) * kApartNs);
  return out;
}

TEST(FrontEndSpread, EngineDelaysEachRequestByItsDraw) {
  const std::vector<TimeNs> plain = first_plan_times({});
  for (const TimeNs t : plain) EXPECT_EQ(t, 5000000);  // api_ttft_ns, nothing else
  // Ratios all equal: no spread, the same times.
  EXPECT_EQ(first_plan_times({{"api_ttft_spread_ratios", "1.1,1.1,1.1"}}), plain);
  std::vector<double> lone;
  const std::string ratios = "1.0,1.0,1.0,1.5,3.0";
  const std::vector<TimeNs> spread = first_plan_times({{"api_ttft_spread_ratios", ratios}}, &lone);
  const FrontEndSpread s = FrontEndSpread::parse(ratios, "k");
  int delayed = 0;
  for (std::uint64_t id = 0; id < spread.size(); ++id) {
    EXPECT_EQ(spread[id], 5000000 + s.extra_ns(id, lone.at(0))) << "request " << id;
    delayed += spread[id] > 5000000 ? 1 : 0;
  }
  EXPECT_GT(delayed, 0);
  EXPECT_LT(delayed, 40);
  // The median request is not delayed: the fit's intercept already holds the typical front end.
  std::vector<TimeNs> sorted = spread;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted[sorted.size() / 2], 5000000);
}

// Shipped presets do not carry the setting, so their resolved settings (written in every summary) do not
// gain the key: predictions and outputs of the shipped catalog stay byte-identical.
TEST(FrontEndSpread, PresetWithoutTheSettingResolvesNoSuchKey) {
  const Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  const ModelSpec& model = catalog.model("meta-llama/Llama-2-7b-hf");
  const GpuSpec& gpu = catalog.gpu("H100-SXM");
  for (const bool with : {false, true}) {
    std::map<std::string, std::string> o;
    if (with) o.emplace("api_ttft_spread_ratios", "1,1,2");
    EngineSettings settings(catalog.engine("vllm-0.15"), o);
    EventQueue q;
    testing_tables::Recorder rec;
    CostModel cost(model, gpu, catalog.profile(gpu.name), catalog.interconnect("none"), 1, "fp16", EngineCostParams{});
    VllmEngine engine(q, &rec, std::move(cost), model, gpu, settings);
    EXPECT_EQ(settings.resolved().contains("api_ttft_spread_ratios"), with);
  }
}

}  // namespace
}  // namespace servetwin
