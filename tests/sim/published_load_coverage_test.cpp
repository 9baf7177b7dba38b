// Issue 17 item 3, the load side: published rows written the way other sources write them run (default durations
// and request counts, named length shapes, waves, non-streaming clients, replicas), or give one reason naming the
// field and the allowed values. Fixture: tests/data/validation/published_as_others_write.csv (27 synthetic rows
// in the published schema; their metric values are placeholders, only coverage is asserted on them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "sim/catalog/catalog.hpp"
#include "sim/metrics/stage_metrics.hpp"
#include "sim/plan/replica_router.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/validate/row_lengths.hpp"
#include "sim/validate/row_mapping.hpp"
#include "sim/validate/row_metrics.hpp"
#include "sim/validate/validate.hpp"
#include "sim/workload/length_dist.hpp"
#include "sim/workload/wave_gate.hpp"

namespace servetwin {
namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  return c;
}

const std::filesystem::path kFixture =
    std::filesystem::path(SERVETWIN_SOURCE_DIR) / "tests/data/validation/published_as_others_write.csv";

const nlohmann::json& fixture_report() {
  static const nlohmann::json report = [] {
    ValidateOptions o;
    o.data = {kFixture};
    o.jobs = 2;
    return run_validation(catalog(), o);
  }();
  return report;
}

const nlohmann::json& report_row(const std::string& id) {
  for (const auto& r : fixture_report()["rows"]) {
    if (r["source_id"] == "others:" + id) return r;
  }
  static const nlohmann::json none;
  ADD_FAILURE() << "row others:" << id << " did not run";
  return none;
}

// A row in the published schema with the cells given; the rest empty.
ValidationRow row(std::map<std::string, std::string> cells) {
  ValidationRow r;
  r.file = "test.csv";
  r.cells = {{"source_id", "t:1"},     {"model", "meta-llama/Llama-2-7b-hf"}, {"gpu", "A100-80GB-SXM"},
             {"num_gpus", "1"},        {"tp", "1"},                           {"engine", "vllm"},
             {"engine_version", "0.6"}, {"workload", "synthetic"},            {"input_tokens_mean", "512"},
             {"output_tokens_mean", "128"}, {"load_type", "closed_concurrency"}, {"load_value", "10"}};
  for (auto& [k, v] : cells) r.cells[k] = v;
  return r;
}

RowMapping map(const ValidationRow& r) {
  static const ValidationPolicy policy = load_checked_policy(catalog(), {});
  return map_row(catalog(), policy, r, ".");
}

TEST(PublishedLoadCoverage, EveryFixtureRowRuns) {
  const auto& src = fixture_report()["sources"]["published_as_others_write.csv"];
  EXPECT_EQ(src["rows"], 27);
  EXPECT_EQ(src["ran"], 27) << "unsupported: " << src["unsupported"].dump(1);
  EXPECT_DOUBLE_EQ(fixture_report()["coverage"]["fraction"].get<double>(), 1.0);
}

TEST(PublishedLoadCoverage, DefaultsAreNamedInTheRowsLoadNote) {
  EXPECT_NE(report_row("poisson-sharegpt-nodur")["load_note"].get<std::string>().find("1000 Poisson arrivals"),
            std::string::npos);
  EXPECT_NE(report_row("closed-unknown-nodur")["load_note"].get<std::string>().find("send 1000 requests"),
            std::string::npos);
  EXPECT_NE(report_row("offline-cnn-nocount")["load_note"].get<std::string>().find("1000 requests (default)"),
            std::string::npos);
  for (const char* id : {"closed-waves-type", "closed-waves-spelling", "closed-waves-in-notes"}) {
    EXPECT_NE(report_row(id)["load_note"].get<std::string>().find("in waves"), std::string::npos) << id;
  }
  EXPECT_NE(report_row("poisson-shape-from-desc")["load_note"].get<std::string>().find("sharegpt shape"),
            std::string::npos);
  EXPECT_EQ(report_row("replicas-closed-nodur")["replicas"], 2);
  EXPECT_NE(report_row("poisson-rate-inf")["load_note"].get<std::string>().find("request rate inf"),
            std::string::npos);
  EXPECT_NE(report_row("offline-totals-only")["load_note"].get<std::string>().find("means from the stated totals / 200"),
            std::string::npos);
  // A row that states its load has no note.
  EXPECT_FALSE(report_row("closed-catalog-dataset").contains("load_note"));
}

TEST(PublishedLoadCoverage, RowWithoutDurationRunsABoundedRequestCount) {
  const RowMapping closed = map(row({{"load_value", "10"}}));
  ASSERT_TRUE(closed.scenario) << closed.reason;
  EXPECT_EQ(closed.scenario->max_requests, 1000);  // vLLM bench's --num-prompts default
  EXPECT_TRUE(closed.scenario->window_from_records);
  const RowMapping many = map(row({{"load_value", "256"}}));
  ASSERT_TRUE(many.scenario) << many.reason;
  EXPECT_EQ(many.scenario->max_requests, 2560);  // 10 requests per user
  const RowMapping stated = map(row({{"input_tokens_desc", "random, 300 requests"}}));
  ASSERT_TRUE(stated.scenario) << stated.reason;
  EXPECT_EQ(stated.scenario->max_requests, 300);
  const RowMapping poisson = map(row({{"load_type", "poisson_rate"}, {"load_value", "3"}}));
  ASSERT_TRUE(poisson.scenario) << poisson.reason;
  EXPECT_EQ(poisson.scenario->trace_rows.size(), 1000U);
  const RowMapping offline = map(row({{"load_type", "offline"}, {"load_value", ""}}));
  ASSERT_TRUE(offline.scenario) << offline.reason;
  EXPECT_EQ(offline.scenario->trace_rows.size(), 1000U);
  // A rate x duration that would not fit one run is a reason, not an explosion.
  const RowMapping huge = map(row({{"load_type", "poisson_rate"}, {"load_value", "50000"}, {"duration_s", "604800"}}));
  EXPECT_FALSE(huge.scenario);
  EXPECT_NE(huge.reason.find("load_value x duration_s"), std::string::npos) << huge.reason;
}

TEST(PublishedLoadCoverage, NamedShapesScaleToTheRowsMeansAndUnknownNamesRunFixed) {
  const RowMapping shaped = map(row({{"workload", "ShareGPT_V3"}, {"input_tokens_mean", "500"},
                                     {"output_tokens_mean", "300"}, {"duration_s", "60"}}));
  ASSERT_TRUE(shaped.scenario && shaped.scenario->length_dists) << shaped.reason;
  const WorkloadSpec& sharegpt = catalog().workload("sharegpt");
  const auto& [in, out] = *shaped.scenario->length_dists;
  EXPECT_EQ(in.kind, "lognormal");
  EXPECT_DOUBLE_EQ(in.mean, 500);
  EXPECT_DOUBLE_EQ(out.mean, 300);
  // The coefficient of variation is the shape's.
  EXPECT_NEAR(in.stddev / in.mean, sharegpt.input.stddev / sharegpt.input.mean, 1e-12);
  EXPECT_NEAR(out.stddev / out.mean, sharegpt.output.stddev / sharegpt.output.mean, 1e-12);
  // Totals and a count stand in for the means: 102,400 / 200 = 512 in, 25,600 / 200 = 128 out.
  const RowMapping totals = map(row({{"input_tokens_mean", ""}, {"output_tokens_mean", ""}, {"duration_s", "60"},
                                     {"input_tokens_desc", "200 requests"},
                                     {"notes", "total_input_tokens=102400 total_output_tokens=25600"}}));
  ASSERT_TRUE(totals.scenario) << totals.reason;
  EXPECT_EQ(totals.scenario->fixed_input_tokens, 512);
  EXPECT_EQ(totals.scenario->fixed_output_tokens, 128);
  const RowMapping unknown = map(row({{"workload", "my-private-set"}, {"duration_s", "60"}}));
  ASSERT_TRUE(unknown.scenario) << unknown.reason;
  EXPECT_EQ(unknown.scenario->fixed_input_tokens, 512);
  EXPECT_EQ(unknown.scenario->fixed_output_tokens, 128);
}

TEST(PublishedLoadCoverage, LongBenchRowsRunTheLongBenchShape) {
  // By workload name or alias, or by a word of the description: the longbench shape scaled to the row's means.
  const WorkloadSpec& lb = catalog().workload("longbench");
  for (const auto& cells : std::vector<std::map<std::string, std::string>>{
           {{"workload", "LongBench"}}, {{"workload", "THUDM/LongBench"}},
           {{"workload", "long-context"}, {"input_tokens_desc", "LongBench English tasks, truncated to 8k"}}}) {
    auto all = cells;
    all["input_tokens_mean"] = "6000";
    all["output_tokens_mean"] = "100";
    all["duration_s"] = "60";
    const RowMapping m = map(row(all));
    ASSERT_TRUE(m.scenario && m.scenario->length_dists) << m.reason;
    const auto& [in, out] = *m.scenario->length_dists;
    EXPECT_EQ(in.kind, "lognormal");
    EXPECT_DOUBLE_EQ(in.mean, 6000);
    EXPECT_DOUBLE_EQ(out.mean, 100);
    EXPECT_NEAR(in.stddev / in.mean, lb.input.stddev / lb.input.mean, 1e-12);
    EXPECT_NEAR(out.stddev / out.mean, lb.output.stddev / lb.output.mean, 1e-12);
  }
}

TEST(PublishedLoadCoverage, LongBenchShapeIsTheTaskTableArithmetic) {
  // configs/workloads/longbench.yaml's numbers from the published tables they cite: per task (THUDM/LongBench
  // LongBench/task.md) mean words and samples, and the generation cap (config/dataset2maxlen.json).
  struct Task {
    double words, samples, cap;
  };
  const std::vector<Task> tasks = {
      {9151, 200, 32},  {4887, 200, 32},  {11214, 200, 32}, {4559, 150, 64},  {18409, 200, 128}, {3619, 200, 128},
      {8734, 200, 512}, {10614, 200, 512}, {2113, 200, 512}, {8209, 200, 32},  {6258, 200, 128},  {5177, 200, 64},
      {9289, 200, 32},  {11141, 200, 32}, {1235, 500, 64},  {4206, 500, 64}};
  double n = 0, words = 0, cap = 0;
  for (const Task& t : tasks) {
    n += t.samples;
    words += t.words * t.samples;
    cap += t.cap * t.samples;
  }
  words /= n;
  cap /= n;
  double words_var = 0, cap_var = 0;
  for (const Task& t : tasks) {
    words_var += t.samples * (t.words - words) * (t.words - words) / n;
    cap_var += t.samples * (t.cap - cap) * (t.cap - cap) / n;
  }
  EXPECT_NEAR(words, 6711, 0.5);  // the paper's "average length of 6,711 words (English)"
  const double tokens_per_word = 29869.0 / 18409.0;  // vllm-project/vllm#13350 NarrativeQA / task.md NarrativeQA
  const WorkloadSpec& lb = catalog().workload("longbench");
  EXPECT_NEAR(lb.input.mean, words * tokens_per_word, 1.0);
  EXPECT_NEAR(lb.input.stddev, std::sqrt(words_var) * tokens_per_word, 1.0);
  EXPECT_NEAR(lb.output.mean, cap, 0.05);
  EXPECT_NEAR(lb.output.stddev, std::sqrt(cap_var), 0.05);
}

TEST(PublishedLoadCoverage, ScaledShapesKeepTheirMeanAfterClamping) {
  // Draws from the scaled ShareGPT shape: the sample mean is within 5% of the row's means (the clamp at min/max
  // moves it a little; 20,000 draws put the sampling error of a CV-1.2 lognormal mean under 1%).
  LengthDist in = scaled_to_mean(catalog().workload("sharegpt").input, 800);
  LengthDist out = scaled_to_mean(catalog().workload("sharegpt").output, 250);
  double sum_in = 0, sum_out = 0;
  Rng rng = make_rng(1, "test", 0);
  for (int i = 0; i < 20000; ++i) {
    sum_in += static_cast<double>(draw_length(in, rng));
    sum_out += static_cast<double>(draw_length(out, rng));
  }
  EXPECT_NEAR(sum_in / 20000 / 800, 1.0, 0.05);
  EXPECT_NEAR(sum_out / 20000 / 250, 1.0, 0.05);
}

TEST(PublishedLoadCoverage, ReasonsNameTheFieldAndTheAllowedValues) {
  const RowMapping no_users = map(row({{"load_value", ""}}));
  EXPECT_NE(no_users.reason.find("load_value"), std::string::npos) << no_users.reason;
  EXPECT_NE(no_users.reason.find("integer >= 1"), std::string::npos) << no_users.reason;
  const RowMapping no_means = map(row({{"workload", "mystery"}, {"input_tokens_mean", ""}}));
  EXPECT_NE(no_means.reason.find("input_tokens_mean/output_tokens_mean"), std::string::npos) << no_means.reason;
  const RowMapping bad_type = map(row({{"load_type", "sinusoidal"}}));
  EXPECT_NE(bad_type.reason.find("allowed: poisson_rate, closed_concurrency, closed_waves"), std::string::npos)
      << bad_type.reason;
  const RowMapping bad_duration = map(row({{"duration_s", "0"}}));
  EXPECT_NE(bad_duration.reason.find("duration_s: must be > 0"), std::string::npos) << bad_duration.reason;
}

Scenario waves_scenario(const std::string& arrival) {
  Scenario s;
  s.deployment.model = "meta-llama/Llama-2-7b-hf";
  s.deployment.gpu = "A100-80GB-SXM";
  s.deployment.engine = "vllm-0.15";
  LengthDist in, out;
  in.mean = 256;
  out.kind = "uniform";  // requests of one wave finish at different times
  out.min = 16;
  out.max = 400;
  s.length_dists = std::make_pair(in, out);
  s.load.type = "closed";
  s.load.levels = {8};
  s.load.arrival = arrival;
  s.max_requests = 80;
  s.duration_s = 3600;
  return resolve_scenario(catalog(), s);
}

TEST(WaveArrivals, EachWaveStartsWhenTheSlowestRequestOfThePreviousEnds) {
  const StageResult r = run_stage(catalog(), waves_scenario("waves"), 0, true);
  ASSERT_EQ(r.records.size(), 80U);
  std::map<TimeNs, std::vector<const RequestRecord*>> waves;  // by send time
  for (const auto& rec : r.records) waves[rec.arrival_ns].push_back(&rec);
  ASSERT_EQ(waves.size(), 10U);  // 80 requests in waves of 8
  TimeNs previous_last_finish = 0;
  for (const auto& [sent, members] : waves) {
    EXPECT_EQ(members.size(), 8U);
    EXPECT_EQ(sent, previous_last_finish);  // not a nanosecond earlier or later
    TimeNs last = 0;
    for (const auto* m : members) last = std::max(last, m->finish_ns);
    previous_last_finish = last;
  }
  EXPECT_EQ(r.load["arrival"], "waves");
  // The ordinary closed loop sends each user's next request when its own reply arrives: no such waves.
  const StageResult closed = run_stage(catalog(), waves_scenario("poisson"), 0, true);
  std::set<TimeNs> send_times;
  for (const auto& rec : closed.records) send_times.insert(rec.arrival_ns);
  EXPECT_GT(send_times.size(), 10U);
  // Waiting for the slowest wastes capacity: the same 80 requests finish later in waves.
  auto last_finish = [](const StageResult& run) {
    TimeNs t = 0;
    for (const auto& rec : run.records) t = std::max(t, rec.finish_ns);
    return t;
  };
  EXPECT_GT(last_finish(r), last_finish(closed));
}

TEST(WaveArrivals, GateCountsOneWaveAtATime) {
  WaveGate g(3);
  g.wave_sent(3);
  EXPECT_FALSE(g.request_ended());
  EXPECT_FALSE(g.request_ended());
  EXPECT_TRUE(g.request_ended());
  EXPECT_EQ(g.waves_sent(), 1);
  g.wave_sent(2);  // a short last wave
  EXPECT_THROW(g.wave_sent(1), std::logic_error);
  EXPECT_THROW(WaveGate(0), std::invalid_argument);
}

TEST(WaveArrivals, WavesWithARateAreAConfigError) {
  Scenario s = waves_scenario("waves");
  s.load.type = "open";
  s.load.levels = {2};
  EXPECT_THROW(resolve_scenario(catalog(), s), ConfigError);
}

TEST(NonStreamingClient, TtftIsTheRequestLatencyAndPerTokenIsLatencyOverTokens) {
  std::vector<RequestRecord> recs(2);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    recs[i].request_id = i;
    recs[i].status = RequestStatus::kOk;
    recs[i].arrival_ns = 0;
    recs[i].first_token_ns = 100 * kNsPerMs;
    recs[i].finish_ns = static_cast<TimeNs>(1100 + 1000 * i) * kNsPerMs;
    recs[i].input_tokens = 10;
    recs[i].output_tokens = 11;
  }
  const StageMetrics m = compute_stage_metrics(recs, 0, 0, 10 * kNsPerS);
  const ValidationRow streaming = row({});
  const ValidationRow batch = row({{"notes", "OpenAI client, stream=false"}});
  EXPECT_FALSE(non_streaming_client(streaming));
  EXPECT_TRUE(non_streaming_client(batch));
  EXPECT_TRUE(non_streaming_client(row({{"input_tokens_desc", "non-streaming requests"}})));
  EXPECT_DOUBLE_EQ(predicted_row_metric("ttft_mean_ms", m, streaming), 100.0);
  EXPECT_DOUBLE_EQ(predicted_row_metric("ttft_mean_ms", m, batch), 1600.0);  // mean of 1100 and 2100 ms
  EXPECT_DOUBLE_EQ(predicted_row_metric("ttft_p99_ms", m, batch), m.e2e_ms.p99);
  EXPECT_DOUBLE_EQ(predicted_row_metric("tpot_mean_ms", m, streaming), 150.0);  // (1000 + 2000) / 2 / 10
  EXPECT_DOUBLE_EQ(predicted_row_metric("tpot_mean_ms", m, batch), (1100.0 / 11 + 2100.0 / 11) / 2);
  EXPECT_DOUBLE_EQ(predicted_row_metric("e2e_mean_ms", m, batch), 1600.0);
  // In the fixture run the non-streaming row's predicted TTFT is its predicted E2E.
  const auto& r = report_row("nonstream-closed");
  EXPECT_DOUBLE_EQ(r["predicted"]["ttft_mean_ms"].get<double>(), r["predicted"]["e2e_mean_ms"].get<double>());
}

Scenario open_scenario(double rate, const std::string& arrival, std::uint64_t seed) {
  Scenario s;
  s.deployment.model = "meta-llama/Llama-2-7b-hf";
  s.deployment.gpu = "A100-80GB-SXM";
  s.deployment.engine = "vllm-0.15";
  s.fixed_input_tokens = 512;
  s.fixed_output_tokens = 128;
  s.load.type = "open";
  s.load.levels = {rate};
  s.load.arrival = arrival;
  s.duration_s = 600;
  s.seed = seed;
  return resolve_scenario(catalog(), s);
}

StageResult run_replicas(const Scenario& s, int replicas) {
  return run_stage(catalog(), s, 0, false,
                   replica_set_factory(catalog(), s.deployment, replicas, RouterPolicy::kRoundRobin));
}

double rel(double a, double b) { return std::abs(a - b) / b; }

// Two replicas behind the planner's round-robin router at twice the rate serve each request like one replica at
// the single rate. With evenly spaced arrivals round-robin hands each replica exactly the one-replica stream
// (shifted by half a gap), so per-request latency must agree to rounding (0.5%: the stage edge can give one
// replica one request more) and the deployment's throughput double.
TEST(Replicas, TwoReplicasAtTwiceTheRateMatchOneAtTheRate) {
  const double rate = 6;
  const StageResult one = run_stage(catalog(), open_scenario(rate, "constant", 42), 0, false);
  const StageResult two = run_replicas(open_scenario(2 * rate, "constant", 42), 2);
  EXPECT_LE(rel(two.metrics.ttft_ms.mean, one.metrics.ttft_ms.mean), 0.005);
  EXPECT_LE(rel(two.metrics.tpot_ms.mean, one.metrics.tpot_ms.mean), 0.005);
  EXPECT_LE(rel(two.metrics.e2e_ms.p99, one.metrics.e2e_ms.p99), 0.005);
  EXPECT_NEAR(two.metrics.throughput_output_tok_s / one.metrics.throughput_output_tok_s, 2.0, 0.01);
  ASSERT_TRUE(two.engine_stats.contains("replicas"));
  EXPECT_EQ(two.engine_stats["replicas"].size(), 2U);
}

// Under Poisson arrivals round-robin splitting smooths each replica's stream (Erlang-2 gaps, not exponential), so
// queueing can only shrink: TTFT no worse than one replica at the rate beyond the simulator's own noise (the
// seed-to-seed spread of the one-replica run), and TPOT (set by the batch size, i.e. the per-replica rate) the same
// within that noise plus 1%.
TEST(Replicas, RoundRobinOfPoissonArrivalsIsNoWorseThanOneReplicaAtTheRate) {
  const double rate = 6;
  const StageResult one = run_stage(catalog(), open_scenario(rate, "poisson", 42), 0, false);
  const StageResult one_seed43 = run_stage(catalog(), open_scenario(rate, "poisson", 43), 0, false);
  const StageResult two = run_replicas(open_scenario(2 * rate, "poisson", 42), 2);
  const double ttft_noise = rel(one_seed43.metrics.ttft_ms.mean, one.metrics.ttft_ms.mean);
  const double tpot_noise = rel(one_seed43.metrics.tpot_ms.mean, one.metrics.tpot_ms.mean);
  EXPECT_LE(two.metrics.ttft_ms.mean, one.metrics.ttft_ms.mean * (1 + ttft_noise));
  EXPECT_LE(rel(two.metrics.tpot_ms.mean, one.metrics.tpot_ms.mean), 3 * tpot_noise + 0.01);
  EXPECT_NEAR(two.metrics.throughput_output_tok_s / one.metrics.throughput_output_tok_s, 2.0, 0.05);
}

}  // namespace
}  // namespace servetwin
