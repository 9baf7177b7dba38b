// Dataset readers, arrivals, helpers, and the llm-load-test JSON shape.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>

#include "live/load/prompt_supply.hpp"
#include "sim/workload/workload_choice.hpp"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

const std::filesystem::path kShared = SERVETWIN_SHARED_DIR;

// The live runner reads datasets with sim/workload's reader: what it sends (min/max_new_tokens).
TEST(LiveDataset, ReadsV1JsonRequestLimits) {
  const auto ds = load_dataset(kShared / "datasets/llm-load-test/openorca-subset-006.json", "");
  ASSERT_EQ(ds.samples.size(), 32U);
  EXPECT_EQ(ds.samples[0].id, "t0.1091909");
  EXPECT_EQ(ds.samples[0].min_new_tokens, 8);
  EXPECT_EQ(ds.samples[0].max_new_tokens, 8);
  std::int64_t out_sum = 0, out_max = 0;
  for (const auto& e : ds.samples) {
    out_sum += e.max_new_tokens;
    out_max = std::max(out_max, e.max_new_tokens);
  }
  EXPECT_EQ(out_sum, 3093);  // documented in ../shared/datasets/README.md
  EXPECT_EQ(out_max, 377);
}

TEST(LiveDataset, ReadsV2JsonlRequestLimits) {
  const auto ds = load_dataset(kShared / "datasets/llm-load-test/SISO_normal_granite-3.1-8b-instruct.jsonl", "");
  ASSERT_EQ(ds.samples.size(), 4000U);
  std::int64_t out_max = 0;
  for (const auto& e : ds.samples) {
    out_max = std::max(out_max, e.max_new_tokens);
    EXPECT_EQ(e.min_new_tokens, e.max_new_tokens);
    EXPECT_EQ(e.max_new_tokens, e.output_tokens);
  }
  EXPECT_EQ(out_max, 238);
}

// Synthetic prompts hit their token count on the twin's count (4 bytes per token), and differ by key.
TEST(LivePrompts, SyntheticTextHasTheTwinTokenCount) {
  for (const std::int64_t n : {1, 7, 512, 3000}) {
    const std::string t = live::synthetic_prompt_text(n, 42, 3);
    EXPECT_EQ(live::approx_token_count(t), n) << n;
  }
  EXPECT_NE(live::synthetic_prompt_text(64, 42, 3), live::synthetic_prompt_text(64, 42, 4));
  EXPECT_EQ(live::synthetic_prompt_text(64, 42, 3), live::synthetic_prompt_text(64, 42, 3));
}

// The same seed and level give predict's request sequence (sim/workload's source, same stream).
TEST(LivePrompts, StageSourceIsPredictsSource) {
  LengthDist in, out;
  in.kind = "normal";
  in.mean = 300;
  in.stddev = 80;
  out.kind = "uniform";
  out.min = 10;
  out.max = 90;
  ResolvedWorkload w;
  w.lengths.emplace(in, out);
  const live::PromptSupply supply(w);
  auto live_src = supply.stage_source(9, 2.5);
  auto sim_src = w.make_source(9, stage_stream_id(2.5));
  for (std::uint64_t i = 0; i < 50; ++i) {
    const RequestShape a = live_src->next_open(), b = sim_src->next_open();
    ASSERT_EQ(a.input_tokens, b.input_tokens);
    ASSERT_EQ(a.output_tokens, b.output_tokens);
    const PromptSample p = supply.prompt(a, 9, i);
    EXPECT_EQ(live::approx_token_count(p.text), a.input_tokens);
    EXPECT_EQ(p.max_new_tokens, a.output_tokens);
  }
}

TEST(LiveUtil, DurationsAndTokens) {
  EXPECT_DOUBLE_EQ(live::parse_duration_s("500ms"), 0.5);
  EXPECT_DOUBLE_EQ(live::parse_duration_s("2m"), 120);
  EXPECT_DOUBLE_EQ(live::parse_duration_s("7"), 7);
  EXPECT_THROW(live::parse_duration_s("5 parsecs"), std::invalid_argument);
  EXPECT_TRUE(live::has_duration_unit("10s"));
  EXPECT_FALSE(live::has_duration_unit("10"));
  EXPECT_EQ(live::approx_token_count("abcd"), 1);
  EXPECT_EQ(live::approx_token_count("abcde"), 2);
  EXPECT_TRUE(live::is_loopback_address("127.0.0.1:8033"));
  EXPECT_FALSE(live::is_loopback_address("0.0.0.0:8033"));
}

TEST(LiveUtil, TwinOutputLengthIsDeterministicAndBounded) {
  EXPECT_EQ(live::twin_output_tokens(1, "hello", 40, 40), 40);
  const auto a = live::twin_output_tokens(1, "hello", 0, 100);
  EXPECT_EQ(a, live::twin_output_tokens(1, "hello", 0, 100));
  EXPECT_GE(a, 1);
  EXPECT_LE(a, 100);
  int differs = 0;
  for (int i = 0; i < 20; ++i) differs += live::twin_output_tokens(1, fmt::format("p{}", i), 0, 100) != a;
  EXPECT_GT(differs, 10);
}

TEST(LiveLlmLoadTestJson, FieldsAndDefinitions) {
  live::LoadConfig cfg;
  cfg.target = "127.0.0.1:8033";
  cfg.concurrency = {2};
  live::StageWindow w;
  w.stage = 0;
  w.window_start_ns = 0;
  w.window_end_ns = 10 * kNsPerS;
  w.load = {{"concurrency", 2}};
  std::vector<live::LiveRecord> recs(2);
  auto& a = recs[0].rec;
  a.arrival_ns = 0;
  a.ack_ns = 50 * kNsPerMs;
  a.first_token_ns = 100 * kNsPerMs;
  a.finish_ns = 1100 * kNsPerMs;
  a.output_tokens = 11;
  a.status = RequestStatus::kOk;
  recs[0].messages = {{a.ack_ns, 0}, {a.first_token_ns, 1}, {a.finish_ns, 11}};
  auto& b = recs[1].rec;
  b.status = RequestStatus::kRejected;
  b.arrival_ns = 0;
  b.finish_ns = 1;
  recs[1].status_code = 8;
  const auto j = live::llm_load_test_json(cfg, w, recs, std::chrono::system_clock::time_point{});
  ASSERT_TRUE(j.contains("results") && j.contains("config") && j.contains("summary"));
  const auto& s = j["summary"];
  for (const char* k : {"tpot", "ttft", "itl", "tt_ack", "response_time", "output_tokens",
                        "output_tokens_before_timeout", "input_tokens"}) {
    ASSERT_TRUE(s.contains(k)) << k;
    for (const char* p : {"min", "max", "median", "mean", "percentile_80", "percentile_90", "percentile_95",
                          "percentile_99"}) {
      EXPECT_TRUE(s[k].contains(p)) << k << "." << p;
    }
  }
  EXPECT_NEAR(s["tpot"]["mean"].get<double>(), 1100.0 / 11, 1e-9);       // e2e / out (includes TTFT)
  EXPECT_NEAR(s["itl"]["mean"].get<double>(), 1000.0 / 10, 1e-9);        // (end - first) / (out - 1)
  EXPECT_NEAR(s["ttft"]["mean"].get<double>(), 100.0, 1e-9);
  EXPECT_NEAR(s["tt_ack"]["mean"].get<double>(), 50.0, 1e-9);
  EXPECT_EQ(s["total_requests"].get<int>(), 2);
  EXPECT_EQ(s["total_failures"].get<int>(), 1);
  EXPECT_NEAR(s["failure_rate"].get<double>(), 50.0, 1e-9);
  EXPECT_NEAR(s["throughput"].get<double>(), 11.0 / 10.0, 1e-9);
  EXPECT_EQ(j["results"][1]["error_code"].get<int>(), 8);
  EXPECT_EQ(j["config"]["load_options"]["concurrency"].get<int>(), 2);
}

}  // namespace
}  // namespace servetwin::testing
