// `validate --live` building blocks without a live run: the reader's errors name file and field,
// and the re-simulation replays the client's behaviour (recorded send times, per-user turnaround,
// non-ok requests occupying their user) rather than the live latencies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "sim/catalog/catalog.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/scenario/deployment.hpp"
#include "sim/validate/live_resimulate.hpp"
#include "sim/formats/live_run_reader.hpp"

namespace servetwin {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("servetwin-livevalidate-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

RequestRecord req(std::uint64_t id, std::int64_t user, TimeNs arrival, TimeNs finish, RequestStatus st = RequestStatus::kOk) {
  RequestRecord r;
  r.request_id = id;
  r.user_id = user;
  r.input_tokens = 100;
  r.output_tokens = 8;
  r.arrival_ns = arrival;
  r.ack_ns = arrival + kNsPerMs;
  r.first_token_ns = arrival + kNsPerMs;
  r.finish_ns = finish;
  r.status = st;
  return r;
}

// Llama-2-7B on one A10G (g5.2xlarge), the given engine preset or the default one.
DeploymentConfig llama7b_on_g5(const Catalog& catalog, const std::string& engine = "") {
  DeploymentConfig d;
  d.model = "llama-2-7b";
  d.instance = "g5.2xlarge";
  if (!engine.empty()) d.engine = engine;
  return resolve_deployment(catalog, d);
}

nlohmann::json live_summary() {
  return {{"schema_version", kSummarySchemaVersion},
          {"producer", "live"},
          {"partial", false},
          {"scenarios",
           {{{"name", "live tgis x"},
             {"resolved_config", {{"loads", {{"duration_s", 0}}}}},
             {"stages",
              {{{"load", {{"concurrency", 1}}},
                {"label", "concurrency=1"},
                {"window", {{"stage_start_ns", 0}, {"start_ns", 0}, {"end_ns", 1000}}}}}}}}}};
}

void write_run(const std::filesystem::path& dir, const nlohmann::json& summary) {
  std::ofstream(dir / "summary.json") << summary.dump();
  std::ofstream csv(dir / "requests.csv");
  csv << request_csv_header() << "\n" << request_csv_line(req(0, 0, 10, 500)) << "\n";
}

std::string error_of(const std::filesystem::path& dir) {
  try {
    (void)read_live_run(dir);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(LiveValidateReader, ReadsStagesAndRequests) {
  const auto dir = fresh_dir("ok");
  write_run(dir, live_summary());
  const LiveRun run = read_live_run(dir);
  ASSERT_EQ(run.stages.size(), 1U);
  EXPECT_TRUE(run.stages[0].closed_loop);
  EXPECT_EQ(run.stages[0].window_end_ns, 1000);
  ASSERT_EQ(run.requests.size(), 1U);
  EXPECT_EQ(run.requests[0].finish_ns, 500);
  EXPECT_TRUE(run.warmup.empty());
  std::filesystem::remove_all(dir);
}

TEST(LiveValidateReader, ErrorsNameFileAndField) {
  const auto dir = fresh_dir("bad");
  auto s = live_summary();
  s["schema_version"] = "2.0";
  write_run(dir, s);
  std::string e = error_of(dir);
  EXPECT_NE(e.find("summary.json"), std::string::npos) << e;
  EXPECT_NE(e.find("schema_version"), std::string::npos) << e;

  s = live_summary();
  s["producer"] = "simulator";
  write_run(dir, s);
  e = error_of(dir);
  EXPECT_NE(e.find("'producer'"), std::string::npos) << e;

  s = live_summary();
  s["scenarios"][0]["stages"][0]["window"].erase("end_ns");
  write_run(dir, s);
  e = error_of(dir);
  EXPECT_NE(e.find("scenarios[0].stages[0].window.end_ns"), std::string::npos) << e;

  write_run(dir, live_summary());
  std::ofstream(dir / "requests.csv") << request_csv_header() << "\n0,1,0,0,x,8,0,10,11,11,500,ok,,0,\n";
  e = error_of(dir);
  EXPECT_NE(e.find("requests.csv:2"), std::string::npos) << e;
  EXPECT_NE(e.find("input_tokens"), std::string::npos) << e;
  std::filesystem::remove_all(dir);
}

TEST(LiveValidateReader, ScheduleSampleIndexPerRequest) {
  const std::string head = "request_id,stage,user_id,warmup,scheduled_ns,input_tokens,output_tokens,sample_index\n";
  const auto m = parse_schedule_prompts(head + "0,0,0,1,5,512,32,17\n4,0,1,0,9,512,32,-1\n9,1,0,0,3,128,64,0\n", "s.csv");
  EXPECT_EQ(m.size(), 2U);  // the synthetic prompt (-1) is left out
  EXPECT_EQ(m.at(0), 17);
  EXPECT_EQ(m.at(9), 0);
  // A run written before the column existed: nothing is known to repeat.
  EXPECT_TRUE(parse_schedule_prompts("request_id,stage,user_id,warmup,scheduled_ns,input_tokens,output_tokens\n0,0,0,1,5,512,32\n", "s.csv").empty());
  for (const std::string bad : {"0,0,0,1,5,512,32,1.5\n", "0,0,0,1,5,512,32\n", "0,0,0,1,5,512,32,-2\n"}) {
    try {
      (void)parse_schedule_prompts(head + bad, "s.csv");
      ADD_FAILURE() << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("s.csv:2"), std::string::npos) << e.what();
    }
  }
}

TEST(LiveValidateReplay, ClosedLoopFollowsSimulatedFinishPlusRecordedTurnaround) {
  const Catalog catalog = Catalog::load(default_config_dir());
  const DeploymentConfig d = llama7b_on_g5(catalog);
  // User 0: ok, then a rejected request (not replayed: the user waits its live 3 ms), then ok.
  // User 1 starts 20 ms in. Open-loop request 9 arrives at its recorded time.
  const TimeNs ms = kNsPerMs;
  std::vector<RequestRecord> live = {req(1, 0, 0, 400 * ms),
                                     req(2, 0, 405 * ms, 408 * ms, RequestStatus::kRejected),
                                     req(3, 0, 410 * ms, 900 * ms),
                                     req(4, 1, 20 * ms, 300 * ms),
                                     req(9, -1, 50 * ms, 200 * ms)};
  const auto out = resimulate_live_stage(catalog, d, 0, live);
  std::map<std::uint64_t, RequestRecord> sim;
  for (const auto& r : out.records) sim[r.request_id] = r;
  ASSERT_EQ(sim.size(), 4U);  // the rejected request is not replayed
  EXPECT_EQ(sim.count(2), 0U);
  EXPECT_EQ(sim[1].arrival_ns, 0);
  EXPECT_EQ(sim[4].arrival_ns, 20 * ms);
  EXPECT_EQ(sim[9].arrival_ns, 50 * ms);
  for (const auto& [id, r] : sim) {
    EXPECT_EQ(r.status, RequestStatus::kOk) << id;
    EXPECT_EQ(r.output_tokens, 8) << id;
    EXPECT_EQ(r.stage, 0) << id;
  }
  // Request 3 follows request 1's SIMULATED finish: turnaround 5 ms, the skipped request's 3 ms,
  // turnaround 2 ms.
  EXPECT_EQ(sim[3].arrival_ns, sim[1].finish_ns + 5 * ms + 3 * ms + 2 * ms);
  EXPECT_NE(sim[1].finish_ns, 400 * ms);  // the replay used the engine model, not the live finish
}

// A simulated engine faster than the live server must not run out of requests before the window
// closes (that capped predicted window throughput at the live count).
TEST(LiveValidateReplay, DurationModeClosedLoopKeepsSendingUntilTheWindowEnds) {
  const Catalog catalog = Catalog::load(default_config_dir());
  const DeploymentConfig d = llama7b_on_g5(catalog);
  const TimeNs ms = kNsPerMs;
  // Live: slow (2 s per request), turnarounds 4, 6, 5 ms (median 5 ms); second length 200 tokens.
  std::vector<RequestRecord> live = {req(1, 0, 0, 2000 * ms), req(2, 0, 2004 * ms, 4000 * ms),
                                     req(3, 0, 4006 * ms, 6000 * ms), req(4, 0, 6005 * ms, 8000 * ms)};
  live[1].input_tokens = 200;
  const TimeNs until = 20000 * ms;
  const auto recorded_only = resimulate_live_stage(catalog, d, 0, live);
  EXPECT_EQ(recorded_only.records.size(), 4U);
  ReplayOptions opts;
  opts.keep_sending_until_ns = until;
  const auto out = resimulate_live_stage(catalog, d, 0, live, opts);
  std::vector<RequestRecord> recs = out.records;
  std::sort(recs.begin(), recs.end(), [](const auto& a, const auto& b) { return a.arrival_ns < b.arrival_ns; });
  ASSERT_GT(recs.size(), 4U);
  for (std::size_t k = 0; k < recs.size(); ++k) {
    EXPECT_LT(recs[k].arrival_ns, until) << k;
    if (k < 4) {
      EXPECT_LT(recs[k].request_id, kReplayExtensionIdBase) << k;
      continue;
    }
    EXPECT_GE(recs[k].request_id, kReplayExtensionIdBase) << k;
    EXPECT_EQ(recs[k].input_tokens, k % 4 == 1 ? 200 : 100) << k;  // the recorded lengths, in order
    EXPECT_EQ(recs[k].arrival_ns, recs[k - 1].finish_ns + 5 * ms) << k;  // the median turnaround
  }
  EXPECT_GE(recs.back().finish_ns + 5 * ms, until);  // the next one would have been sent after the window
}

// The same dataset prompt sent again shares its whole prompt as a prefix: vLLM V1's prefix cache
// serves all its full blocks but the one holding the last token.
TEST(LiveValidateReplay, RepeatedDatasetPromptHitsThePrefixCache) {
  const Catalog catalog = Catalog::load(default_config_dir());
  const DeploymentConfig d = llama7b_on_g5(catalog, "vllm-0.15");
  const TimeNs ms = kNsPerMs;
  std::vector<RequestRecord> live = {req(1, 0, 0, 1000 * ms), req(2, 0, 1005 * ms, 2000 * ms),
                                     req(3, 0, 2005 * ms, 3000 * ms)};
  for (auto& r : live) r.input_tokens = 512;
  const PromptOfRequest prompt_of = {{1, 7}, {2, 7}, {3, 8}};  // 2 repeats 1's prompt; 3 is new
  ReplayOptions opts;
  opts.prompt_of = &prompt_of;
  const auto with = resimulate_live_stage(catalog, d, 0, live, opts);
  const auto without = resimulate_live_stage(catalog, d, 0, live);
  const std::int64_t block = 16;  // the vllm-0.15 preset's block size
  EXPECT_EQ(with.engine_stats.at("engine_specific").at("prefix_cache_hit_tokens").get<std::int64_t>(), (512 - 1) / block * block);
  EXPECT_EQ(without.engine_stats.at("engine_specific").at("prefix_cache_hit_tokens").get<std::int64_t>(), 0);
  std::map<std::uint64_t, TimeNs> ttft_with, ttft_without;
  for (const auto& r : with.records) ttft_with[r.request_id] = r.first_token_ns - r.arrival_ns;
  for (const auto& r : without.records) ttft_without[r.request_id] = r.first_token_ns - r.arrival_ns;
  EXPECT_LT(ttft_with[2], ttft_without[2]);  // the repeat prefills one block, not 32
  EXPECT_EQ(ttft_with[3], ttft_without[3]);  // a new prompt gains nothing
}

// A stage begins with the prefix cache the server's earlier stages left (prefix_cache_carryover.hpp):
// a prompt an earlier stage sent is a hit on its first send in this stage; one the earlier stages never
// sent is not.
TEST(LiveValidateReplay, EarlierStagesPromptsAreCachedWhenAStageBegins) {
  const Catalog catalog = Catalog::load(default_config_dir());
  const DeploymentConfig d = llama7b_on_g5(catalog, "vllm-0.15");
  const TimeNs ms = kNsPerMs;
  std::vector<RequestRecord> live = {req(1, 0, 0, 1000 * ms), req(2, 0, 1005 * ms, 2000 * ms)};
  for (auto& r : live) r.input_tokens = 512;
  const PromptOfRequest prompt_of = {{1, 7}, {2, 8}};
  ReplayOptions opts;
  opts.prompt_of = &prompt_of;
  const auto cold = resimulate_live_stage(catalog, d, 1, live, opts);
  opts.earlier_requests = {PastRequest{-5000 * ms, -4000 * ms, 7, 512, 16}};  // stage 0 sent prompt 7
  const auto warm = resimulate_live_stage(catalog, d, 1, live, opts);
  const std::int64_t block = 16;  // the vllm-0.15 preset's block size
  EXPECT_EQ(cold.engine_stats.at("engine_specific").at("prefix_cache_hit_tokens").get<std::int64_t>(), 0);
  EXPECT_EQ(warm.engine_stats.at("engine_specific").at("prefix_cache_hit_tokens").get<std::int64_t>(), (512 - 1) / block * block);
  std::map<std::uint64_t, TimeNs> ttft_cold, ttft_warm;
  for (const auto& r : cold.records) ttft_cold[r.request_id] = r.first_token_ns - r.arrival_ns;
  for (const auto& r : warm.records) ttft_warm[r.request_id] = r.first_token_ns - r.arrival_ns;
  EXPECT_LT(ttft_warm[1], ttft_cold[1]);  // prompt 7: cached by the earlier stage
  EXPECT_EQ(ttft_warm[2], ttft_cold[2]);  // prompt 8: new to the server
}

}  // namespace
}  // namespace servetwin
