// End-to-end: `servetwin load`'s runner against the twin over loopback, with the fake engine
// (the real engine's version of the accuracy test is e2e_engine_test.cpp).
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "proto/fmaas_generation.grpc.pb.h"
#include "tests/live/live_test_util.hpp"

extern char** environ;

namespace servetwin::testing {
namespace {


FakeEngineParams accuracy_engine() {
  FakeEngineParams p;
  // Steps long enough that loopback + scheduling latency on a busy 2-core machine (~1-3 ms) stays
  // well inside 5% of TTFT.
  p.step_base_ns = 25 * kNsPerMs;
  p.step_per_seq_ns = 300 * kNsPerUs;
  p.prefill_per_token_ns = 400 * kNsPerUs;
  return p;
}

class RunnerVsSimulator : public ::testing::TestWithParam<int> {};

// The runner's measured throughput, TTFT p50 and TPOT mean are within 5% of the same closed loop
// simulated in-process: the twin reproduces the engine model's timing over real gRPC, and the
// runner measures it without adding more than a few percent.
// One real-time run and its in-process simulation; returns true when all three metrics are
// within 5%. Only the final attempt asserts.
bool attempt_within_5_percent(int users, int attempt, bool final_attempt) {
  const std::int64_t total = users == 1 ? 10 : users * 4;
  const TwinVsSim run = run_twin_vs_sim(fake_factory(accuracy_engine()), 11, "acc", users, total, attempt);
  const auto& res = run.res;
  const auto& cfg = run.cfg;
  if (std::getenv("SERVETWIN_LIVE_DUMP") != nullptr) {
    auto dump = [](const std::vector<RequestRecord>& v) {
      std::vector<std::pair<TimeNs, int>> t;
      for (const auto& r : v) t.emplace_back(r.arrival_ns, static_cast<int>(ns_to_ms(r.first_token_ns - r.arrival_ns)));
      std::sort(t.begin(), t.end());
      for (const auto& [a, x] : t) std::cerr << ns_to_ms(a - t.front().first) << ":" << x << " ";
      std::cerr << "\n";
    };
    dump(run.live_recs);
    dump(run.sim_recs);
  }
  if (final_attempt) {
    EXPECT_LT(run.e_thr, 0.05);
    EXPECT_LT(run.e_ttft, 0.05);
    EXPECT_LT(run.e_tpot, 0.05);
  }
  // Server-reported counts: input = the twin's approximation, output = the dataset's exact length.
  for (const auto& r : res.records) {
    EXPECT_GT(r.rec.input_tokens, 0);
    EXPECT_EQ(r.rec.stop_reason, "MAX_TOKENS");
    EXPECT_GE(r.rec.first_token_ns, r.rec.ack_ns);
    EXPECT_EQ(static_cast<std::int64_t>(r.messages.size()), r.rec.output_tokens + 1);  // ack + one per token
  }
  // Outputs: CSV rows appended per request, summary with producer "live", llm-load-test JSON.
  EXPECT_EQ(read_lines(cfg.out_dir / "requests.csv").size(), static_cast<std::size_t>(total + 1));
  std::ifstream sf(cfg.out_dir / "summary.json");
  const auto summary = nlohmann::json::parse(sf);
  EXPECT_EQ(summary["producer"], "live");
  EXPECT_EQ(summary["partial"], false);
  const auto& rc = summary["scenarios"][0]["resolved_config"];
  EXPECT_EQ(rc["target"], cfg.target);
  EXPECT_EQ(rc["protocol"], "tgis");
  EXPECT_EQ(rc["seed"], 7);
  EXPECT_EQ(rc["loads"]["concurrency"][0], users);
  EXPECT_EQ(summary["scenarios"][0]["stages"][0]["metrics"]["completed"], total);
  char name[32];
  std::snprintf(name, sizeof name, "output-%03d.json", users);
  EXPECT_TRUE(std::filesystem::exists(cfg.out_dir / "llm-load-test" / name));
  return run.within(0.05);
}

TEST_P(RunnerVsSimulator, Within5Percent) {
  // Real-time runs share the machine's 2 cores with whatever else runs (CI builds in parallel):
  // one bad scheduling hiccup can move a p50 that sits on a step boundary. Up to three bounded
  // attempts (< 10 s each); only the last one asserts.
  const int users = GetParam();
  if (!attempt_within_5_percent(users, 1, false) && !attempt_within_5_percent(users, 2, false)) {
    attempt_within_5_percent(users, 3, true);
  }
}

INSTANTIATE_TEST_SUITE_P(Concurrency, RunnerVsSimulator, ::testing::Values(1, 8, 32));

TEST(LiveE2E, CaikitStagesWarmupAndOpenLoop) {
  const auto dir = temp_dir("caikit");
  const auto ds_path = write_dataset(dir, 32, 4, 8);
  live::TwinOptions o;
  o.protocol = live::Protocol::kCaikit;
  o.model_name = "twin-model";
  live::TwinServer twin(o, fake_factory());
  const int port = twin.start();
  {
    auto cfg = base_config(port, ds_path, dir / "closed");
    cfg.protocol = live::Protocol::kCaikit;
    cfg.model_id = "twin-model";
    cfg.concurrency = {1, 4};
    cfg.requests = 8;
    cfg.warmup_requests = 3;
    live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
    const auto res = runner.run(nullptr);
    ASSERT_FALSE(res.partial);
    ASSERT_EQ(res.stages.size(), 2U);
    EXPECT_EQ(res.stages[0].warmup_requests, 3);
    EXPECT_EQ(res.records.size(), 16U);  // warmup excluded
    for (const auto& r : res.records) EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
    EXPECT_EQ(read_lines(cfg.out_dir / "warmup_requests.csv").size(), 7U);  // header + 2 stages x 3
  }
  {
    auto cfg = base_config(port, ds_path, dir / "open");
    cfg.protocol = live::Protocol::kCaikit;
    cfg.model_id = "twin-model";
    cfg.rates = {40};
    cfg.arrival = "poisson";
    cfg.duration_s = 1.5;
    cfg.max_in_flight = 16;
    live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
    const auto res = runner.run(nullptr);
    ASSERT_FALSE(res.partial);
    // ~60 arrivals expected in 1.5 s at 40/s; Poisson noise stays well inside these bounds.
    EXPECT_GT(res.records.size(), 30U);
    EXPECT_LT(res.records.size(), 100U);
    for (const auto& r : res.records) EXPECT_EQ(r.rec.user_id, -1);
  }
  {
    auto cfg = base_config(port, ds_path, dir / "unary");
    cfg.protocol = live::Protocol::kCaikit;
    cfg.model_id = "twin-model";
    cfg.stream = false;
    cfg.concurrency = {2};
    cfg.requests = 4;
    live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
    const auto res = runner.run(nullptr);
    ASSERT_EQ(res.records.size(), 4U);
    for (const auto& r : res.records) {
      EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
      EXPECT_GT(r.rec.output_tokens, 0);
    }
  }
}

TEST(LiveE2E, OverloadCountsRejections) {
  const auto dir = temp_dir("overload");
  const auto ds_path = write_dataset(dir, 32, 8, 16);
  FakeEngineParams p;
  p.max_concurrent = 4;
  live::TwinServer twin(live::TwinOptions{}, fake_factory(p));
  const int port = twin.start();
  auto cfg = base_config(port, ds_path, dir / "out");
  cfg.concurrency = {16};
  cfg.duration_s = 1.0;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto res = runner.run(nullptr);
  ASSERT_FALSE(res.partial) << res.partial_reason;
  std::int64_t rejected = 0, ok = 0;
  for (const auto& r : res.records) {
    if (r.rec.status == RequestStatus::kRejected) {
      ++rejected;
      EXPECT_EQ(r.status_code, static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
      EXPECT_NE(r.rec.error.find("RESOURCE_EXHAUSTED"), std::string::npos);
    }
    ok += r.rec.status == RequestStatus::kOk;
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(ok, 0);
  const auto& m = res.summary["scenarios"][0]["stages"][0]["metrics"];
  EXPECT_EQ(m["rejected"].get<std::int64_t>(), rejected);
  EXPECT_GT(m["rejection_rate"].get<double>(), 0.0);
  EXPECT_EQ(res.summary["scenarios"][0]["stages"][0]["grpc_status_counts"]["RESOURCE_EXHAUSTED"].get<std::int64_t>(),
            rejected);
}

TEST(LiveE2E, ServerKilledMidRunRecordsEveryRequest) {
  const auto dir = temp_dir("killed");
  const auto ds_path = write_dataset(dir, 32, 200, 300);  // long: requests are in flight at the kill
  const auto portfile = dir / "port";
  pid_t pid = 0;
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string arg1 = "--twin-child", arg2 = portfile.string();
  char* argv[] = {self.data(), arg1.data(), arg2.data(), nullptr};
  ASSERT_EQ(posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, environ), 0);
  for (int i = 0; i < 100 && !std::filesystem::exists(portfile); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(std::filesystem::exists(portfile));
  const int port = std::stoi(read_lines(portfile).at(0));
  auto cfg = base_config(port, ds_path, dir / "out");
  cfg.concurrency = {8};
  cfg.duration_s = 20;
  cfg.timeout_s = 5;
  // The server does not come back: after 1 s of reconnect attempts (users backing off) the run
  // stops. (faults_cli.sh restarts it within the default 30 s and the run resumes.)
  cfg.reconnect_timeout_s = 1;
  std::thread killer([pid] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    kill(pid, SIGKILL);
  });
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto t_start = std::chrono::steady_clock::now();
  const auto res = runner.run(nullptr);
  killer.join();
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t_start, std::chrono::seconds(10));
  EXPECT_TRUE(res.partial);
  EXPECT_NE(res.partial_reason.find("unavailable"), std::string::npos) << res.partial_reason;
  ASSERT_GE(res.records.size(), 8U);
  int unavailable = 0;
  for (const auto& r : res.records) {
    ASSERT_NE(r.rec.status, RequestStatus::kOk);  // nothing could finish 200+ tokens in 1.5 s
    EXPECT_FALSE(r.rec.error.empty());
    EXPECT_GE(r.rec.finish_ns, r.rec.arrival_ns);
    unavailable += r.status_code == static_cast<int>(grpc::StatusCode::UNAVAILABLE);
  }
  EXPECT_GE(unavailable, 8);
  // The 8 requests in flight at the kill had streamed tokens already.
  int with_tokens = 0;
  for (const auto& r : res.records) with_tokens += r.messages.size() > 1;
  EXPECT_EQ(with_tokens, 8);
  EXPECT_EQ(read_lines(cfg.out_dir / "requests.csv").size(), res.records.size() + 1);
  std::ifstream sf(cfg.out_dir / "summary.json");
  const auto summary = nlohmann::json::parse(sf);
  EXPECT_EQ(summary["partial"], true);
  EXPECT_TRUE(summary.contains("partial_reason"));
}

// A deliberately broken TGIS server: request n%3==0 sends a decreasing token count, n%3==1 sends
// a message after the final one, n%3==2 is correct.
class BrokenTgis final : public fmaas::GenerationService::Service {
 public:
  grpc::Status ModelInfo(grpc::ServerContext*, const fmaas::ModelInfoRequest*, fmaas::ModelInfoResponse* r) override {
    r->set_max_sequence_length(1000);
    return grpc::Status::OK;
  }
  grpc::Status GenerateStream(grpc::ServerContext*, const fmaas::SingleGenerationRequest*,
                              grpc::ServerWriter<fmaas::GenerationResponse>* w) override {
    const int kind = n_++ % 3;
    fmaas::GenerationResponse m;
    m.set_input_token_count(4);
    w->Write(m);
    std::vector<std::uint32_t> counts = kind == 0 ? std::vector<std::uint32_t>{1, 2, 1, 3} : std::vector<std::uint32_t>{1, 2, 3};
    for (std::size_t i = 0; i < counts.size(); ++i) {
      fmaas::GenerationResponse t;
      t.set_text(" w");
      t.set_generated_token_count(counts[i]);
      if (i + 1 == counts.size()) t.set_stop_reason(fmaas::MAX_TOKENS);
      w->Write(t);
    }
    if (kind == 1) {
      fmaas::GenerationResponse extra;
      extra.set_text(" late");
      extra.set_generated_token_count(4);
      w->Write(extra);
    }
    return grpc::Status::OK;
  }
  std::atomic<int> n_{0};
};

TEST(LiveE2E, MalformedStreamsAreErrorsAndTheRunContinues) {
  const auto dir = temp_dir("malformed");
  const auto ds_path = write_dataset(dir, 16, 3, 3);
  BrokenTgis svc;
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&svc);
  auto server = b.BuildAndStart();
  ASSERT_NE(port, 0);
  auto cfg = base_config(port, ds_path, dir / "out");
  cfg.concurrency = {1};
  cfg.requests = 12;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto res = runner.run(nullptr);
  server->Shutdown();
  ASSERT_EQ(res.records.size(), 12U);
  int backwards = 0, after_final = 0, ok = 0;
  for (const auto& r : res.records) {
    if (r.rec.status == RequestStatus::kOk) {
      ++ok;
      EXPECT_EQ(r.rec.output_tokens, 3);
    } else {
      EXPECT_EQ(r.rec.status, RequestStatus::kError);
      backwards += r.rec.error.find("went backwards") != std::string::npos;
      after_final += r.rec.error.find("after the final message") != std::string::npos;
    }
  }
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(backwards, 4);
  EXPECT_EQ(after_final, 4);
}

TEST(LiveE2E, InterruptWritesPartialSummary) {
  const auto dir = temp_dir("interrupt");
  const auto ds_path = write_dataset(dir, 16, 20, 40);
  live::TwinServer twin(live::TwinOptions{}, fake_factory());
  const int port = twin.start();
  auto cfg = base_config(port, ds_path, dir / "out");
  cfg.concurrency = {4};
  cfg.duration_s = 30;
  std::atomic<bool> stop{false};
  std::thread sig([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    stop.store(true);
  });
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto t_start = std::chrono::steady_clock::now();
  const auto res = runner.run(&stop);
  sig.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t_start, std::chrono::seconds(5));
  EXPECT_TRUE(res.partial);
  ASSERT_FALSE(res.records.empty());
  // In-flight requests were allowed to finish (within --timeout), so all are complete.
  for (const auto& r : res.records) EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
  std::ifstream sf(cfg.out_dir / "summary.json");
  const auto summary = nlohmann::json::parse(sf);
  EXPECT_EQ(summary["partial"], true);
}

TEST(LiveE2E, ReadinessFailureNamesWhatFailed) {
  const auto dir = temp_dir("ready");
  const auto ds_path = write_dataset(dir, 4, 2, 2);
  auto cfg = base_config(1, ds_path, dir / "out");  // nothing listens on port 1
  cfg.concurrency = {1};
  cfg.requests = 1;
  cfg.ready_timeout_s = 0.5;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  try {
    runner.run(nullptr);
    FAIL() << "expected a readiness error";
  } catch (const std::runtime_error& e) {
    const std::string w = e.what();
    EXPECT_NE(w.find("ModelInfo"), std::string::npos) << w;
    EXPECT_NE(w.find("127.0.0.1:1"), std::string::npos) << w;
    EXPECT_NE(w.find("UNAVAILABLE"), std::string::npos) << w;
  }
}

}  // namespace
}  // namespace servetwin::testing
