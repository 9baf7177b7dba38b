// SGLang scheduler rules (sim/engine/sglang_engine.cpp) on small hand-computed scenarios: a token pool of
// a few dozen tokens (max_total_tokens), so every admission, chunk and retraction can be derived from the
// rules by hand. Each expected table states the arithmetic that gives it. The engine is built through the
// registry (it has no header: one engine = one .cpp).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_registry.hpp"
#include "tests/sim/scheduler_table.hpp"

namespace servetwin {
namespace {

using testing_tables::Item;
using testing_tables::Recorder;

struct Harness {
  Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  EventQueue q;
  Recorder rec;
  std::vector<std::vector<Item>> steps;
  std::unique_ptr<EngineBase> engine;
  Harness(const std::string& preset, std::map<std::string, std::string> overrides) {
    const ModelSpec& model = catalog.model("meta-llama/Llama-2-7b-hf");
    const GpuSpec& gpu = catalog.gpu("H100-SXM");
    EngineSettings settings(catalog.engine(preset), std::move(overrides));
    const EngineCostParams cpu = read_engine_cost_params(settings, gpu, catalog.profile(gpu.name));  // as build_serving_sim does
    CostModel cost(model, gpu, catalog.profile(gpu.name), catalog.interconnect("none"), 1, "fp16", cpu);
    EngineBuildContext ctx{q, &rec, std::move(cost), model, gpu, settings};
    engine = build_engine("sglang", preset, ctx);
    settings.finish();
    engine->set_step_observer([this](const Step& s) {
      std::vector<Item> row;
      for (const auto& i : s.items) row.push_back({i.req->in.id, i.prefill_tokens, i.emits_token});
      steps.push_back(row);
    });
  }
  void submit(std::uint64_t id, std::int64_t in, std::int64_t out, std::int64_t group = -1, std::int64_t shared = 0) {
    engine->submit(testing_tables::fixed_request(id, in, out, group, shared), q.now());
  }
  void run() {
    while (q.step()) {
    }
  }
};

// A pool of `tokens`, no radix cache, FCFS, chunks and prefill batches of 64 tokens.
std::map<std::string, std::string> small_pool(const std::string& tokens, const std::string& conservativeness) {
  return {{"max_total_tokens", tokens},    {"radix_cache", "false"},       {"schedule_policy", "fcfs"},
          {"chunked_prefill_size", "64"}, {"max_prefill_tokens", "64"}, {"schedule_conservativeness", conservativeness}};
}

// R1 and R2: 20-token prompts, 40 outputs; R3: 10 and 10; all at t = 0.
void submit_three(Harness& h) {
  h.submit(1, 20, 40);
  h.submit(2, 20, 40);
  h.submit(3, 10, 10);
  h.run();
}

std::vector<Item> decode(std::initializer_list<std::uint64_t> ids) {
  std::vector<Item> row;
  for (auto id : ids) row.push_back({id, 0, true});
  return row;
}

TEST(SglangScheduler, NewTokenRatioHoldsBackASecondRequest) {
  // Pool 100 tokens, ratio 0.7. Step 1: rem_total 100; R1 needs 20 + 40 = 60 < 100 (left 40); R2 needs
  // 60 >= 40: NO_TOKEN. Step 2: R1 holds 20 tokens, rem_total = 80 - 39 x 0.7 = 52.7 < 60, and each decode
  // lowers free by 1 but the reservation by only ~0.7, so R2 waits until R1's 40th token (step 40). Step 41:
  // the empty pool takes R2 (60, left 40) and R3 (10 + 10 = 20 < 40) in one prefill batch.
  Harness h("sglang-0.4", small_pool("100", "1.0"));
  submit_three(h);
  ASSERT_GE(h.steps.size(), 41U);
  EXPECT_EQ(h.steps[0], (std::vector<Item>{{1, 20, true}}));
  for (std::size_t i = 1; i < 40; ++i) EXPECT_EQ(h.steps[i], decode({1})) << "step " << i + 1;
  EXPECT_EQ(h.steps[40], (std::vector<Item>{{2, 20, true}, {3, 10, true}}));
  EXPECT_EQ(h.rec.done.at(1).output_tokens, 40);
  EXPECT_EQ(h.rec.done.at(2).output_tokens, 40);
  EXPECT_EQ(h.rec.done.at(3).output_tokens, 10);
}

TEST(SglangScheduler, LowConservativenessAdmitsEarlierAndPrefillComesFirst) {
  // conservativeness 0.3: ratio 0.21. Step 2: rem_total = 80 - 39 x 0.21 = 71.8 > 60, so R2 is admitted
  // and its prefill runs alone (prefill first: R1 does not decode in step 2); left 11.8 < R3's 20. Step 3:
  // rem_total = 60 - (39 + 39) x 0.21 = 43.6 > 20 (the ratio fell only 0.0003): R3's prefill, again alone.
  // Step 4: nothing waits, all three decode.
  Harness h("sglang-0.4", small_pool("100", "0.3"));
  submit_three(h);
  ASSERT_GE(h.steps.size(), 4U);
  EXPECT_EQ(h.steps[0], (std::vector<Item>{{1, 20, true}}));
  EXPECT_EQ(h.steps[1], (std::vector<Item>{{2, 20, true}}));
  EXPECT_EQ(h.steps[2], (std::vector<Item>{{3, 10, true}}));
  EXPECT_EQ(h.steps[3], decode({1, 2, 3}));
}

TEST(SglangScheduler, RetractionOnKvShortage) {
  // Pool 80, conservativeness 0.01 (ratio 0.007): R1 (20 in, 30 out) in step 1 (50 < 80); R2 in step 2
  // (rem_total = 60 - 29 x 0.007 = 59.8 > 50). Decodes j = 1..20 leave 40 - 2j free; at j = 21 the pool is
  // empty (< 2 tokens for 2 requests): both have 21 outputs and 20-token prompts, R1 (first in the running
  // list) is retracted and frees its 40 tokens; one request left, so retraction stops; ratio becomes
  // min(1, (21 + 20) / 30) = 1. R2 decodes alone (8 more tokens, rem_total = 39 - 8 = 31 < R1's 41 + 9);
  // then R1 recomputes its 41 tokens (prompt + 21 outputs), emitting token 22, and decodes 8 more.
  Harness h("sglang-0.4", small_pool("80", "0.01"));
  h.submit(1, 20, 30);
  h.submit(2, 20, 30);
  h.run();
  ASSERT_EQ(h.steps.size(), 40U);
  EXPECT_EQ(h.steps[0], (std::vector<Item>{{1, 20, true}}));
  EXPECT_EQ(h.steps[1], (std::vector<Item>{{2, 20, true}}));
  for (std::size_t i = 2; i < 22; ++i) EXPECT_EQ(h.steps[i], decode({1, 2})) << "step " << i + 1;
  for (std::size_t i = 22; i < 31; ++i) EXPECT_EQ(h.steps[i], decode({2})) << "step " << i + 1;
  EXPECT_EQ(h.steps[31], (std::vector<Item>{{1, 41, true}}));
  for (std::size_t i = 32; i < 40; ++i) EXPECT_EQ(h.steps[i], decode({1})) << "step " << i + 1;
  EXPECT_EQ(h.engine->stats().at("engine_specific").at("retractions"), 1);
  EXPECT_EQ(h.rec.done.at(1).output_tokens, 30);
  EXPECT_EQ(h.rec.done.at(2).output_tokens, 30);
}

TEST(SglangScheduler, ChunkedPrefillOneChunkedRequestAtATime) {
  // chunked_prefill_size 16: R1's 40-token prompt runs as 16 + 16 + 8; the last chunk leaves 8 tokens of
  // budget, so R2 (10 tokens) becomes the chunked request with 8 and finishes with 2 next step; only then,
  // with no prefill left, do both decode.
  auto o = small_pool("200", "1.0");
  o["chunked_prefill_size"] = "16";
  Harness h("sglang-0.4", o);
  h.submit(1, 40, 2);
  h.submit(2, 10, 2);
  h.run();
  const std::vector<std::vector<Item>> expected = {
      {{1, 16, false}}, {{1, 16, false}}, {{1, 8, true}, {2, 8, false}}, {{2, 2, true}}, decode({1, 2})};
  EXPECT_EQ(h.steps, expected);
}

TEST(SglangScheduler, RadixCacheHitAndLongestPrefixFirst) {
  // R1 (group 0, 32 shared tokens) finishes and leaves its prefix in the tree. Then R4 (no group) arrives
  // and starts a step at once; R2 (no group) and R3 (group 0) arrive at the same instant and wait for the
  // next prefill batch: lpm puts R3 first (32 cached tokens), which computes 40 - 32 = 8; fcfs keeps
  // arrival order.
  for (const std::string policy : {"lpm", "fcfs"}) {
    auto o = small_pool("200", "1.0");
    o["radix_cache"] = "true";
    o["schedule_policy"] = policy;
    Harness h("sglang-0.4", o);
    h.submit(1, 40, 1, 0, 32);
    h.run();
    h.steps.clear();
    h.submit(4, 10, 3);
    h.submit(2, 10, 1);
    h.submit(3, 40, 1, 0, 32);
    h.run();
    ASSERT_GE(h.steps.size(), 2U) << policy;
    EXPECT_EQ(h.steps[0], (std::vector<Item>{{4, 10, true}})) << policy;
    const std::vector<Item> expected = policy == "lpm" ? std::vector<Item>{{3, 8, true}, {2, 10, true}}
                                                       : std::vector<Item>{{2, 10, true}, {3, 8, true}};
    EXPECT_EQ(h.steps[1], expected) << policy;
    EXPECT_EQ(h.engine->stats().at("engine_specific").at("prefix_cache_hit_tokens"), 32) << policy;
  }
}

TEST(SglangScheduler, DefaultLimitsFromServerArgs) {
  // Llama-2-7B on one H100-SXM (80 GiB = 81,920 MiB): v0.4 mem_fraction_static 0.88 (TP1); v0.5 reserves
  // 9.5 + 1/2 = 10 GiB: round((81920 - 10240) / 81920, 3) = 0.875. Pool = ((80 GiB - 0.8 GB context) x
  // fraction - weights) / (32 layers x 2 x 4096 x 2 bytes) per token, about 117k tokens, so
  // max_running_requests = min(tokens / 2, clamp(tokens / 4096 x 512, 2048, 4096)) = 4096.
  for (const auto& [preset, fraction] : std::vector<std::pair<std::string, double>>{{"sglang-0.4", 0.88}, {"sglang-0.5", 0.875}}) {
    Harness h(preset, {});
    const auto e = h.engine->stats().at("engine_specific");
    EXPECT_DOUBLE_EQ(e.at("mem_fraction_static").get<double>(), fraction) << preset;
    const ModelSpec& model = h.catalog.model("meta-llama/Llama-2-7b-hf");
    const GpuSpec& gpu = h.catalog.gpu("H100-SXM");
    const CostModel cost(model, gpu, h.catalog.profile(gpu.name), h.catalog.interconnect("none"), 1, "fp16", EngineCostParams{});
    const double per_token = 32.0 * 2 * 4096 * 2;
    const auto tokens = static_cast<std::int64_t>(((80.0 * 1024 * 1024 * 1024 - 0.8e9) * fraction - cost.weight_bytes_per_gpu()) / per_token);
    EXPECT_EQ(e.at("max_total_tokens").get<std::int64_t>(), tokens) << preset;
    EXPECT_EQ(e.at("max_running_requests").get<std::int64_t>(), 4096) << preset;
  }
}

}  // namespace
}  // namespace servetwin
