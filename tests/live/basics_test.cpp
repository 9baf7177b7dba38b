// Dataset readers, arrivals, helpers, and the llm-load-test JSON shape.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>

#include "live/load/arrivals.hpp"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

const std::filesystem::path kShared = SERVETWIN_SHARED_DIR;

TEST(LiveDataset, ReadsV1Json) {
  const auto ds = live::read_dataset(kShared / "datasets/llm-load-test/openorca-subset-006.json");
  EXPECT_EQ(ds.format, "llm-load-test-v1-json");
  ASSERT_EQ(ds.entries.size(), 32U);
  EXPECT_EQ(ds.entries[0].id, "t0.1091909");
  EXPECT_EQ(ds.entries[0].min_new_tokens, 8);
  EXPECT_EQ(ds.entries[0].max_new_tokens, 8);
  EXPECT_EQ(ds.entries[0].input_tokens, 265);  // prompt_len (the per-entry CSV lists 265 too)
  std::int64_t out_sum = 0, out_max = 0;
  for (const auto& e : ds.entries) {
    out_sum += e.max_new_tokens;
    out_max = std::max(out_max, e.max_new_tokens);
  }
  EXPECT_EQ(out_sum, 3093);  // documented in ../shared/datasets/README.md
  EXPECT_EQ(out_max, 377);
}

TEST(LiveDataset, ReadsV2JsonlSkippingMetadataLine) {
  const auto ds = live::read_dataset(kShared / "datasets/llm-load-test/SISO_normal_granite-3.1-8b-instruct.jsonl");
  EXPECT_EQ(ds.format, "llm-load-test-v2-jsonl");
  ASSERT_EQ(ds.entries.size(), 4000U);
  std::int64_t in_max = 0, out_max = 0;
  for (const auto& e : ds.entries) {
    in_max = std::max(in_max, e.input_tokens);
    out_max = std::max(out_max, e.max_new_tokens);
    EXPECT_EQ(e.min_new_tokens, e.max_new_tokens);
  }
  EXPECT_EQ(in_max, 229);
  EXPECT_EQ(out_max, 238);
}

TEST(LiveDataset, MalformedLineNamesFileAndLine) {
  const auto dir = temp_dir("bad-dataset");
  {
    std::ofstream f(dir / "bad.jsonl");
    f << "{\"name\": \"x\"}\n{\"index\": 0, \"question\": \"q\", \"tok_input_length\": 3, \"tok_output_length\": 4}\n"
      << "{\"index\": 1, \"question\": \"q\"}\n";
  }
  try {
    live::read_dataset(dir / "bad.jsonl");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("tok_input_length"), std::string::npos) << e.what();
  }
}

TEST(LiveDataset, OrderIsASeededPermutationPerUser) {
  const auto a = live::dataset_order(50, 1, 0);
  const auto b = live::dataset_order(50, 1, 0);
  const auto c = live::dataset_order(50, 1, 1);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  auto s = a;
  std::sort(s.begin(), s.end());
  for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i], i);
}

TEST(LiveArrivals, MeansAndVariability) {
  for (const auto& spec : {std::string("poisson"), std::string("constant"), std::string("gamma:2")}) {
    live::ArrivalGenerator g(live::parse_arrival(spec), 10.0, 3, 0);
    const int n = 20000;
    double sum = 0, sq = 0;
    for (int i = 0; i < n; ++i) {
      const double x = ns_to_seconds(g.next_gap_ns());
      sum += x;
      sq += x * x;
    }
    const double mean = sum / n;
    const double cv = std::sqrt(sq / n - mean * mean) / mean;
    EXPECT_NEAR(mean, 0.1, 0.005) << spec;
    const double want_cv = spec == "constant" ? 0.0 : spec == "poisson" ? 1.0 : 2.0;
    EXPECT_NEAR(cv, want_cv, 0.08) << spec;
  }
  EXPECT_THROW(live::parse_arrival("gamma:-1"), std::invalid_argument);
  EXPECT_THROW(live::parse_arrival("bursty"), std::invalid_argument);
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
