// A load measured in several passes (`load --concurrency 1,2,1`) is scored over all its passes:
// compute_pooled_stage_metrics pools the passes' requests and sums their windows, and
// `validate --live` adds one pooled row per repeated load, computed the same way on both sides.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sim/catalog/catalog.hpp"
#include "sim/metrics/stage_metrics.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/scenario/deployment.hpp"
#include "sim/validate/live_validate.hpp"
#include "sim/validate/server_metrics_window.hpp"

namespace servetwin {
namespace {

constexpr TimeNs kMs = kNsPerMs;

RequestRecord ok_request(std::uint64_t id, int stage, TimeNs arrival_ms, TimeNs first_ms, TimeNs finish_ms,
                         std::int64_t out = 11) {
  RequestRecord r;
  r.request_id = id;
  r.user_id = 0;
  r.stage = stage;
  r.input_tokens = 100;
  r.output_tokens = out;
  r.arrival_ns = arrival_ms * kMs;
  r.ack_ns = r.arrival_ns;
  r.first_token_ns = first_ms * kMs;
  r.finish_ns = finish_ms * kMs;
  r.status = RequestStatus::kOk;
  return r;
}

TEST(PooledStageMetrics, OneSliceIsComputeStageMetrics) {
  const std::vector<RequestRecord> recs = {ok_request(1, 0, 0, 30, 130), ok_request(2, 0, 130, 170, 400),
                                           ok_request(3, 1, 0, 10, 20), ok_request(4, 0, 400, 420, 1200)};
  const nlohmann::json one = compute_stage_metrics(recs, 0, 0, 1000 * kMs).to_json();
  const nlohmann::json pooled = compute_pooled_stage_metrics({StageSlice{&recs, 0, 0, 1000 * kMs}}, 0).to_json();
  EXPECT_EQ(one.dump(), pooled.dump());
}

TEST(PooledStageMetrics, TwoPassesPoolRequestsAndSumWindows) {
  // Pass 1 (stage 0, window [0, 1 s)): two requests in the window; a request of stage 1 is ignored.
  // Pass 2 (stage 2, window [5 s, 6 s)): one request in the window, one finishing after it.
  const std::vector<RequestRecord> pass1 = {ok_request(1, 0, 0, 20, 520), ok_request(2, 0, 520, 560, 960),
                                            ok_request(9, 1, 0, 1, 2)};
  const std::vector<RequestRecord> pass2 = {ok_request(3, 2, 5000, 5040, 5540), ok_request(4, 2, 5540, 5600, 6100)};
  const StageMetrics m = compute_pooled_stage_metrics(
      {StageSlice{&pass1, 0, 0, 1000 * kMs}, StageSlice{&pass2, 2, 5000 * kMs, 6000 * kMs}}, 0);
  EXPECT_EQ(m.requests, 4U);
  EXPECT_EQ(m.completed_in_window, 3U);
  EXPECT_DOUBLE_EQ(m.window_s, 2.0);
  EXPECT_DOUBLE_EQ(m.throughput_output_tok_s, 3 * 11 / 2.0);  // 3 requests of 11 tokens in 2 s of windows
  EXPECT_DOUBLE_EQ(m.request_rate_achieved, 1.5);
  // TTFTs 20, 40, 40, 60 ms: the median over the union of both passes.
  EXPECT_DOUBLE_EQ(m.ttft_ms.p50, 40.0);
  EXPECT_DOUBLE_EQ(m.ttft_ms.max, 60.0);
  // Pooled gaps: decode spans 500, 400, 500, 500 ms over 4 x 10 gaps.
  EXPECT_DOUBLE_EQ(m.itl_mean_ms, 1900.0 / 40.0);
}

std::filesystem::path fresh_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("servetwin-pooled-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

// A closed-loop run of one user per stage in duration mode; stage k runs [k s, k s + 800 ms).
void write_run(const std::filesystem::path& dir, const std::vector<int>& concurrency) {
  nlohmann::json stages = nlohmann::json::array();
  std::ofstream csv(dir / "requests.csv");
  csv << request_csv_header() << "\n";
  std::uint64_t id = 0;
  for (std::size_t k = 0; k < concurrency.size(); ++k) {
    const TimeNs start_ms = static_cast<TimeNs>(k) * 1000;
    stages.push_back({{"load", {{"concurrency", concurrency[k]}}},
                      {"label", "concurrency=" + std::to_string(concurrency[k])},
                      {"window", {{"stage_start_ns", start_ms * kMs}, {"start_ns", start_ms * kMs},
                                  {"end_ns", (start_ms + 800) * kMs}}}});
    for (TimeNs t = 0; t < 800; t += 200)
      csv << request_csv_line(ok_request(id++, static_cast<int>(k), start_ms + t, start_ms + t + 20 + 10 * static_cast<TimeNs>(k),
                                         start_ms + t + 150)) << "\n";
  }
  const nlohmann::json summary = {
      {"schema_version", kSummarySchemaVersion},
      {"producer", "live"},
      {"partial", false},
      {"scenarios", {{{"name", "live tgis x"}, {"resolved_config", {{"loads", {{"duration_s", 0.8}}}}}, {"stages", stages}}}}};
  std::ofstream(dir / "summary.json") << summary.dump();
}

nlohmann::json validate_run(const std::filesystem::path& dir) {
  const Catalog catalog = Catalog::load(default_config_dir());
  LiveValidateOptions opts;
  opts.dir = dir;
  DeploymentConfig d;
  d.model = "llama-2-7b";
  d.instance = "g5.2xlarge";
  opts.deployment = d;
  return run_live_validation(catalog, opts);
}

TEST(LiveValidatePooled, OnePooledRowPerRepeatedLoad) {
  const auto dir = fresh_dir("repeat");
  write_run(dir, {1, 2, 1});
  const nlohmann::json report = validate_run(dir);
  ASSERT_EQ(report["rows"].size(), 3U);  // every pass keeps its own row
  ASSERT_TRUE(report.contains("pooled_rows"));
  ASSERT_EQ(report["pooled_rows"].size(), 1U);  // concurrency=2 ran once: no pooled row
  const auto& row = report["pooled_rows"][0];
  EXPECT_EQ(row["label"], "concurrency=1");
  EXPECT_EQ(row["passes"], 2);
  EXPECT_EQ(row["stages"], nlohmann::json({0, 2}));
  // Measured side: 8 requests of 11 tokens, each finishing inside its 800 ms window, over 1.6 s of windows;
  // TTFTs 20 ms (stage 0) and 40 ms (stage 2), four each.
  EXPECT_DOUBLE_EQ(row["measured"]["throughput_output_tok_s"].get<double>(), 8 * 11 / 1.6);
  EXPECT_DOUBLE_EQ(row["measured"]["ttft_p50_ms"].get<double>(), 30.0);
  EXPECT_EQ(row["requests"]["measured_ok"], 8);
  // Predicted side: the two passes' re-simulated rows, pooled the same way (all requests are in window
  // in both passes' rows, so the pooled throughput is the window-weighted mean of the two).
  const double p0 = report["rows"][0]["predicted"]["throughput_output_tok_s"].get<double>();
  const double p2 = report["rows"][2]["predicted"]["throughput_output_tok_s"].get<double>();
  EXPECT_NEAR(row["predicted"]["throughput_output_tok_s"].get<double>(), (p0 + p2) / 2, 1e-9);
  std::filesystem::remove_all(dir);
}

// With the server's scraped /metrics beside the run, a pooled row carries the server's view over all its
// passes' windows (server_metrics_in_windows) beside the simulated engine's, and the report the whole run's.
TEST(LiveValidatePooled, PooledRowCarriesTheServersViewOfItsPasses) {
  const auto dir = fresh_dir("scraped");
  write_run(dir, {1, 2, 1});
  {
    std::ofstream m(dir / "metrics.csv");
    m << "t_ns,running,waiting,kv_cache_usage,preemptions_total\n";
    for (int t = 0; t < 30; ++t) m << TimeNs{t} * 100 * kMs << "," << t % 3 << ",0," << t / 100.0 << "," << t / 10 << "\n";
  }
  const nlohmann::json report = validate_run(dir);
  ASSERT_EQ(report["pooled_rows"].size(), 1U);
  const auto& sm = report["pooled_rows"][0]["server_metrics"];
  EXPECT_EQ(sm["measured"], server_metrics_in_windows(read_server_scrapes(dir / "metrics.csv"), {{0, 800 * kMs}, {2000 * kMs, 2800 * kMs}}));
  EXPECT_EQ(sm["measured"]["scrapes"], 9 + 9);  // 0..800 ms and 2000..2800 ms, every 100 ms, both ends in
  EXPECT_EQ(sm["predicted"]["batch_mean"], report["pooled_rows"][0]["engine"]["batch_mean"]);
  EXPECT_DOUBLE_EQ(report["live"]["server_metrics_run"]["preemptions"].get<double>(), 2.0);
  std::filesystem::remove_all(dir);
}

TEST(LiveValidatePooled, NoPooledRowsWhenNoLoadRepeats) {
  const auto dir = fresh_dir("once");
  write_run(dir, {1, 2, 4});
  const nlohmann::json report = validate_run(dir);
  EXPECT_EQ(report["rows"].size(), 3U);
  EXPECT_FALSE(report.contains("pooled_rows"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace servetwin
