// Other tools' result formats (sim/formats, docs/result-formats.md): a simulated stage written as a
// vLLM bench result or an llm-d report and read back gives the same metrics; real files from the
// tools' own repositories (tests/data/formats/README.md) are read as documented; bad files fail
// with errors that name the file and the field.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "closed_loop_scenario.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/formats/foreign_file.hpp"
#include "sim/formats/guidellm_report.hpp"
#include "sim/formats/llm_load_test_output.hpp"
#include "sim/formats/llmd_report.hpp"
#include "sim/formats/read_any_run.hpp"
#include "sim/formats/vllm_bench_result.hpp"
#include "sim/metrics/stage_metrics.hpp"
#include "sim/scenario/scenario.hpp"

namespace servetwin {
namespace {

// GuideLLM and llm-load-test write epoch seconds as doubles: near 1.7e9 s one unit in the last
// place is 2^-22 s = 238 ns, so a time read back is within 2 ulp (difference of two times) = 477 ns.
constexpr double kEpochRoundingNs = 477;

const std::filesystem::path kData = std::filesystem::path(SERVETWIN_SOURCE_DIR) / "tests" / "data" / "formats";

// One simulated closed-loop stage (4 users, 30 s) plus one failed request appended.
const StageResult& simulated_stage() {
  static const StageResult st = [] {
    const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
    Scenario s = testing_scenarios::closed_loop_scenario("llama-2-7b", "A10G", "tgis-rhoai-2024q1", 300, 60, 4, 30);
    s = resolve_scenario(c, s);
    StageResult out = run_stage(c, s, 0, /*keep_records=*/true);
    RequestRecord bad;
    bad.request_id = 999999;
    bad.input_tokens = 10;
    bad.arrival_ns = 5 * kNsPerS;
    bad.finish_ns = 5 * kNsPerS;
    bad.status = RequestStatus::kError;
    bad.error = "UNAVAILABLE: injected";
    out.records.push_back(bad);
    return out;
  }();
  return st;
}

std::filesystem::path write_temp(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / ("servetwin-formats-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p) << text;
  return p;
}

std::string error_of(const std::filesystem::path& p) {
  try {
    (void)formats::read_any_run(p);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// Metrics compared in the round trips; the request-count window on both sides.
void expect_same_metrics(const StageMetrics& a, const StageMetrics& b) {
  const auto ja = a.to_json(), jb = b.to_json();
  for (const char* k : {"requests", "completed", "errors", "completed_in_window"}) EXPECT_EQ(ja[k], jb[k]) << k;
  for (const char* k : {"ttft_mean_ms", "ttft_p50_ms", "ttft_p90_ms", "ttft_p99_ms", "itl_mean_ms", "tpot_mean_ms",
                        "e2e_mean_ms", "e2e_p50_ms", "e2e_p99_ms", "throughput_output_tok_s", "throughput_total_tok_s",
                        "request_rate_achieved", "latency_per_token_median_ms"}) {
    // Times travel as seconds in doubles and come back rounded to the nanosecond.
    EXPECT_NEAR(ja[k].get<double>(), jb[k].get<double>(), 1e-6 * std::max(1.0, std::abs(ja[k].get<double>()))) << k;
  }
}

TEST(ResultFormats, VllmBenchResultRoundTripKeepsEveryRequestAndMetric) {
  const StageResult& st = simulated_stage();
  formats::VllmResultContext ctx;
  ctx.model_id = "meta-llama/Llama-2-7b-hf";
  ctx.load = st.load;
  const nlohmann::json j = formats::vllm_bench_result_json(st.records, ctx);
  EXPECT_EQ(j["max_concurrency"], 4);
  EXPECT_EQ(j["request_rate"], "inf");
  EXPECT_EQ(j["failed"], 1);
  EXPECT_EQ(j["completed"].get<std::size_t>(), st.records.size() - 1);
  const auto path = write_temp("vllm.json", j.dump());
  const formats::AnyRun any = formats::read_any_run(path);
  ASSERT_EQ(any.format, "vllm-bench-result");
  const LiveRun& run = *any.per_request;
  EXPECT_EQ(run.model_hint, "meta-llama/Llama-2-7b-hf");
  ASSERT_EQ(run.stages.size(), 1U);
  EXPECT_TRUE(run.stages[0].closed_loop);
  EXPECT_EQ(run.stages[0].load["concurrency"], 4);
  // The writer's own vLLM statistics agree with compute_stage_metrics on the same records.
  const auto [ws, we] = formats::request_count_window(st.records);
  const StageMetrics orig = compute_stage_metrics(st.records, 0, ws, we);
  EXPECT_NEAR(j["mean_ttft_ms"].get<double>(), orig.ttft_ms.mean, 1e-6);
  EXPECT_NEAR(j["median_ttft_ms"].get<double>(), orig.ttft_ms.p50, 1e-6);
  EXPECT_NEAR(j["p99_ttft_ms"].get<double>(), orig.ttft_ms.p99, 1e-6);
  EXPECT_NEAR(j["mean_tpot_ms"].get<double>(), orig.tpot_ms.mean, 1e-6);
  EXPECT_NEAR(j["mean_itl_ms"].get<double>(), orig.itl_mean_ms, 1e-6);
  EXPECT_NEAR(j["mean_e2el_ms"].get<double>(), orig.e2e_ms.mean, 1e-6);
  EXPECT_NEAR(j["output_throughput"].get<double>(), orig.throughput_output_tok_s_full, 1e-6);
  const StageMetrics back = compute_stage_metrics(run.requests, 0, run.stages[0].window_start_ns, run.stages[0].window_end_ns);
  // Read back relative to the first send: shift the original window the same way.
  const StageMetrics orig0 = compute_stage_metrics(st.records, 0, ws, we);
  expect_same_metrics(orig0, back);
  std::filesystem::remove(path);
}

TEST(ResultFormats, VllmOpenLoopKeepsSendTimes) {
  std::vector<RequestRecord> recs;
  for (int i = 0; i < 5; ++i) {
    RequestRecord r;
    r.request_id = static_cast<std::uint64_t>(i);
    r.input_tokens = 100 + i;
    r.output_tokens = 10;
    r.arrival_ns = 1'000'000'000LL + i * 333'333'333LL;
    r.first_token_ns = r.arrival_ns + 50'000'000;
    r.finish_ns = r.first_token_ns + 9 * 20'000'000;
    r.status = RequestStatus::kOk;
    recs.push_back(r);
  }
  formats::VllmResultContext ctx;
  ctx.load = {{"rate_per_s", 3.0}, {"arrival", "gamma:2"}};
  const auto j = formats::vllm_bench_result_json(recs, ctx);
  EXPECT_EQ(j["request_rate"], 3.0);
  EXPECT_DOUBLE_EQ(j["burstiness"].get<double>(), 0.25);  // gamma shape 1/CV^2
  const LiveRun run = formats::read_vllm_bench_result(j, "x.json");
  EXPECT_FALSE(run.stages[0].closed_loop);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(run.requests[static_cast<std::size_t>(i)].arrival_ns, i * 333'333'333LL);  // relative to the first send
    EXPECT_EQ(run.requests[static_cast<std::size_t>(i)].user_id, -1);
    EXPECT_EQ(run.requests[static_cast<std::size_t>(i)].finish_ns - run.requests[static_cast<std::size_t>(i)].arrival_ns,
              230'000'000);
  }
}

TEST(ResultFormats, LlmdReportRoundTripGivesTheStageMetrics) {
  const StageResult& st = simulated_stage();
  formats::LlmdReportContext ctx;
  ctx.scenario_name = "test";
  ctx.deployment = {{"model", "meta-llama/Llama-2-7b-hf"}, {"gpu", "A10G"}, {"num_gpus", 1}, {"tp", 1}};
  ctx.load = st.load;
  ctx.tool_version = "t";
  const StageMetrics m = compute_stage_metrics(st.records, 0, 0, 30 * kNsPerS);
  const nlohmann::json j = formats::llmd_report_json(st.records, m, ctx);
  EXPECT_EQ(j["version"], "0.2");
  // The YAML reader reads the JSON text too (JSON is YAML): the same report either way.
  const auto path = write_temp("llmd.yaml", j.dump(2));
  const formats::AnyRun any = formats::read_any_run(path);
  ASSERT_EQ(any.format, "llm-d-report-v0.2");
  const formats::LlmdStage& s = *any.aggregate;
  EXPECT_EQ(s.model, "meta-llama/Llama-2-7b-hf");
  EXPECT_EQ(s.accelerator, "A10G");
  EXPECT_EQ(s.concurrency, 4);
  EXPECT_EQ(s.requests_total, static_cast<std::int64_t>(m.requests));
  EXPECT_EQ(s.failures, 1);
  const auto mj = m.to_json();
  for (const char* k : {"ttft_mean_ms", "ttft_p50_ms", "ttft_p90_ms", "ttft_p99_ms", "itl_mean_ms", "tpot_mean_ms",
                        "e2e_mean_ms", "e2e_p50_ms", "e2e_p99_ms", "throughput_output_tok_s", "throughput_total_tok_s",
                        "request_rate_achieved", "latency_per_token_median_ms"}) {
    ASSERT_EQ(s.measured.count(k), 1U) << k;
    EXPECT_NEAR(s.measured.at(k), mj[k].get<double>(), 1e-9 * std::max(1.0, mj[k].get<double>())) << k;
  }
  std::filesystem::remove(path);
}

TEST(ResultFormats, RealLlmdV02ExampleIsRead) {
  const formats::AnyRun any = formats::read_any_run(kData / "llm-d" / "br_v0_2_example.yaml");
  ASSERT_EQ(any.format, "llm-d-report-v0.2");
  const auto& s = *any.aggregate;
  EXPECT_EQ(s.model, "Qwen/Qwen3-0.6B");
  EXPECT_EQ(s.accelerator, "NVIDIA-H100-80GB-HBM3");
  EXPECT_EQ(s.accelerator_count, 8);
  EXPECT_EQ(s.tp, 8);
  EXPECT_EQ(s.rate_qps, 10.0);
  EXPECT_FALSE(s.concurrency.has_value());  // concurrency: .inf
  EXPECT_EQ(s.requests_total, 500);
  EXPECT_EQ(s.failures, 0);
  EXPECT_NEAR(s.measured.at("ttft_mean_ms"), 36.8578234128654, 1e-9);  // 0.0368578234128654 s
  EXPECT_NEAR(s.measured.at("ttft_p90_ms"), 42.62634576298297, 1e-9);
  EXPECT_NEAR(s.measured.at("itl_mean_ms"), 36.8578234128654, 1e-9);   // units s/token
  EXPECT_NEAR(s.measured.at("throughput_output_tok_s"), 2262.448, 1e-9);
  EXPECT_NEAR(s.input_quantiles.at(0.5), 2262.0, 1e-9);
  EXPECT_NEAR(s.input_quantiles.at(0.999), 2326.503, 1e-9);
}

TEST(ResultFormats, RealGuidellmReportIsRead) {
  // Genuine GuideLLM 0.8.0.dev18 output with its per-request lists stripped by llm-d-benchmark.
  const formats::AnyRun any = formats::read_any_run(kData / "guidellm" / "guidellm_report_v2.json");
  ASSERT_EQ(any.format, "guidellm-benchmarks");
  const LiveRun& run = *any.per_request;
  ASSERT_EQ(run.stages.size(), 2U);
  EXPECT_FALSE(run.stages[0].closed_loop);
  EXPECT_EQ(run.stages[0].load["rate_per_s"], 2.0);
  EXPECT_EQ(run.stages[1].load["rate_per_s"], 4.0);
  // start_time 1786678148.2526348 .. end_time 1786678153.2722828: a 5.0196 s window.
  EXPECT_NEAR(ns_to_seconds(run.stages[0].window_end_ns - run.stages[0].window_start_ns), 5.019648, 1e-6);
  EXPECT_TRUE(run.requests.empty());
}

nlohmann::json guidellm_request(double start, double first, double end, int in, int out) {
  return {{"type_", "generative_request_stats"},
          {"request_id", "r"},
          {"info", {{"status", "completed"},
                    {"timings", {{"request_start", start}, {"first_token_iteration", first},
                                 {"last_token_iteration", end}, {"request_end", end}}}}},
          {"input_metrics", {{"total_tokens", in}}},
          {"output_metrics", {{"total_tokens", out}}},
          {"prompt_tokens", in},
          {"output_tokens", out}};
}

TEST(ResultFormats, GuidellmConcurrentStreamsBecomeAClosedLoop) {
  const double t0 = 1.7e9;
  nlohmann::json b = {{"type_", "generative_benchmark"},
                      {"config", {{"strategy", {{"type_", "concurrent"}, {"streams", 2}}}}},
                      {"start_time", t0},
                      {"end_time", t0 + 10},
                      {"requests", {{"successful", {guidellm_request(t0, t0 + 0.1, t0 + 1.0, 100, 10),
                                                    guidellm_request(t0, t0 + 0.2, t0 + 2.0, 200, 20),
                                                    guidellm_request(t0 + 1.0, t0 + 1.1, t0 + 3.0, 300, 30)}},
                                    {"errored", nlohmann::json::array()},
                                    {"incomplete", nlohmann::json::array()}}}};
  const nlohmann::json j = {{"metadata", {{"version", 2}}}, {"benchmarks", {b}}};
  const LiveRun run = formats::read_guidellm_report(j, "g.json");
  ASSERT_EQ(run.requests.size(), 3U);
  EXPECT_TRUE(run.stages[0].closed_loop);
  EXPECT_EQ(run.stages[0].load["concurrency"], 2);
  // The third request took the slot the first one freed at t0 + 1.0.
  EXPECT_EQ(run.requests[2].user_id, run.requests[0].user_id);
  EXPECT_NE(run.requests[1].user_id, run.requests[0].user_id);
  EXPECT_NEAR(static_cast<double>(run.requests[2].first_token_ns - run.requests[2].arrival_ns), 100'000'000, kEpochRoundingNs);
  EXPECT_EQ(run.requests[2].output_tokens, 30);
  EXPECT_EQ(run.stages[0].window_end_ns - run.stages[0].window_start_ns, 10 * kNsPerS);
}

TEST(ResultFormats, LlmLoadTestOutputIsAClosedLoopWithItsUsers) {
  const double t0 = 1.7e9;
  auto result = [&](int user, double s, double f, double e, int out) {
    return nlohmann::json{{"user_id", user},     {"input_id", 0},        {"input_tokens", 50},
                          {"output_tokens", out}, {"start_time", s},      {"ack_time", s + 0.01},
                          {"first_token_time", f}, {"end_time", e},       {"error_code", nullptr},
                          {"error_text", nullptr}, {"stop_reason", "MAX_TOKENS"}};
  };
  nlohmann::json failed = result(1, t0 + 2, t0 + 2, t0 + 2, 0);
  failed["error_code"] = 14;
  failed["error_text"] = "unavailable";
  const nlohmann::json j = {{"results", {result(0, t0, t0 + 0.1, t0 + 1, 10), result(1, t0 + 0.5, t0 + 0.6, t0 + 1.5, 5), failed}},
                            {"config", {{"load_options", {{"type", "constant"}, {"concurrency", 2}, {"duration", 60}}},
                                        {"plugin_options", {{"model_name", "granite"}}}}},
                            {"summary", {{"throughput", 1.0}}}};
  const auto path = write_temp("llt.json", j.dump());
  const formats::AnyRun any = formats::read_any_run(path);
  ASSERT_EQ(any.format, "llm-load-test-output");
  const LiveRun& run = *any.per_request;
  EXPECT_EQ(run.model_hint, "granite");
  EXPECT_EQ(run.stages[0].load["concurrency"], 2);
  EXPECT_EQ(run.stages[0].window_end_ns, 60 * kNsPerS);
  EXPECT_NEAR(static_cast<double>(run.requests[1].arrival_ns), 500'000'000, kEpochRoundingNs);
  EXPECT_EQ(run.requests[1].user_id, 1);
  EXPECT_EQ(run.requests[2].status, RequestStatus::kError);
  EXPECT_NEAR(static_cast<double>(run.requests[0].ack_ns), 10'000'000, kEpochRoundingNs);
  std::filesystem::remove(path);
}

TEST(ResultFormats, BadFilesNameTheFileAndTheAcceptedFormats) {
  const auto unknown = write_temp("unknown.json", R"({"foo": 1})");
  const std::string e1 = error_of(unknown);
  EXPECT_NE(e1.find(unknown.string()), std::string::npos) << e1;
  EXPECT_NE(e1.find("accepted:"), std::string::npos) << e1;
  EXPECT_NE(e1.find("GuideLLM"), std::string::npos) << e1;

  formats::VllmResultContext ctx;
  ctx.load = {{"concurrency", 4}};
  std::string text = formats::vllm_bench_result_json(simulated_stage().records, ctx).dump();
  const auto truncated = write_temp("truncated.json", text.substr(0, text.size() / 2));
  const std::string e2 = error_of(truncated);
  EXPECT_NE(e2.find(truncated.string()), std::string::npos) << e2;

  nlohmann::json no_detail = nlohmann::json::parse(text);
  no_detail.erase("start_times");
  const auto summary_only = write_temp("nodetail.json", no_detail.dump());
  EXPECT_NE(error_of(summary_only).find("field 'start_times' missing"), std::string::npos) << error_of(summary_only);
  EXPECT_NE(error_of(summary_only).find("--save-detailed"), std::string::npos);

  nlohmann::json short_array = nlohmann::json::parse(text);
  short_array["ttfts"].erase(0);
  const auto mismatched = write_temp("short.json", short_array.dump());
  EXPECT_NE(error_of(mismatched).find("field 'ttfts' has"), std::string::npos) << error_of(mismatched);

  const auto missing = std::filesystem::temp_directory_path() / "servetwin-formats-no-such-file.json";
  EXPECT_NE(error_of(missing).find("not a directory or a file"), std::string::npos) << error_of(missing);
  // A name the OS refuses to look up (a component over NAME_MAX) is the same clear error, with the
  // OS's reason, not an escaping std::filesystem_error (found by fuzzing a catalog path field).
  const auto too_long = std::filesystem::temp_directory_path() / std::string(300, 'a');
  EXPECT_NE(error_of(too_long).find("not a directory or a file (File name too long)"), std::string::npos)
      << error_of(too_long);

  const auto empty = write_temp("empty.json", "");
  EXPECT_NE(error_of(empty).find("empty file"), std::string::npos) << error_of(empty);

  const auto old_llmd = write_temp("llmd01.yaml", "version: '0.1'\nresults:\n  request_performance: {}\n");
  EXPECT_NE(error_of(old_llmd).find("field 'version'"), std::string::npos) << error_of(old_llmd);
  for (const auto& p : {unknown, truncated, summary_only, mismatched, empty, old_llmd}) std::filesystem::remove(p);
}

TEST(ResultFormats, PythonInfinityAndNanAreRead) {
  const auto j = formats::parse_json_lenient(R"({"request_rate": Infinity, "x": NaN, "s": "NaN Infinity"})");
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["request_rate"], "inf");
  EXPECT_TRUE(j["x"].is_null());
  EXPECT_EQ(j["s"], "NaN Infinity");  // text inside strings is untouched
}

}  // namespace
}  // namespace servetwin
