// `validate --live` building blocks without a live run: the reader's errors name file and field,
// and the re-simulation replays the client's behaviour (recorded send times, per-user turnaround,
// non-ok requests occupying their user) rather than the live latencies.
#include <gtest/gtest.h>
#include <unistd.h>

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

TEST(LiveValidateReplay, ClosedLoopFollowsSimulatedFinishPlusRecordedTurnaround) {
  const Catalog catalog = Catalog::load(default_config_dir());
  DeploymentConfig d;
  d.model = "llama-2-7b";
  d.instance = "g5.2xlarge";
  d = resolve_deployment(catalog, d);
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

}  // namespace
}  // namespace servetwin
