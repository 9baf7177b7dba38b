// The live runner's fault handling (issue 20 item 3): a readiness check that the target speaks the
// chosen protocol, the error-rate breaker, client backoff on overload answers (Retry-After
// honoured), stall detection, and a second signal that cancels what is in flight. Server restarts
// and SIGSTOP of a real `servetwin serve` are in faults_cli.sh.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "live/load/openai_wire.hpp"
#include "sim/workload/client_backoff.hpp"
#include "tests/live/fake_openai_server.hpp"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

using Clock = std::chrono::steady_clock;

live::LoadConfig fake_openai_config(int port, const std::filesystem::path& ds, const std::filesystem::path& out) {
  auto c = base_config(port, ds, out);
  c.target = "http://127.0.0.1:" + std::to_string(port);
  c.protocol = live::Protocol::kOpenaiCompletions;
  c.poll_threads = 1;
  return c;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// `--protocol caikit` against a TGIS twin (and the reverse) fails at readiness, before any load:
// issue 20 measured 33,846 UNIMPLEMENTED errors and exit 0.
TEST(LiveFaults, WrongProtocolFailsAtReadinessBeforeLoad) {
  const auto dir = temp_dir("wrong-protocol");
  const auto ds_path = write_dataset(dir, 8, 4, 4);
  for (const auto& [served, asked] : {std::pair{live::Protocol::kTgis, live::Protocol::kCaikit},
                                      std::pair{live::Protocol::kCaikit, live::Protocol::kTgis}}) {
    live::TwinOptions o;
    o.protocol = served;
    live::TwinServer twin(o, fake_factory());
    auto cfg = base_config(twin.start(), ds_path, dir / (std::string("out-") + to_string(asked)));
    cfg.protocol = asked;
    cfg.concurrency = {4};
    cfg.duration_s = 5;
    live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
    const auto t = Clock::now();
    try {
      runner.run(nullptr);
      ADD_FAILURE() << "no error for --protocol " << to_string(asked) << " against a " << to_string(served) << " server";
    } catch (const live::ProtocolMismatchError& e) {
      EXPECT_NE(std::string(e.what()).find("UNIMPLEMENTED"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::string("--protocol ") + to_string(asked)), std::string::npos) << e.what();
    }
    EXPECT_LT(seconds_since(t), 2.0);  // no waiting for --ready-timeout (5 s here)
    EXPECT_EQ(twin.stats().accepted, 0);  // no load reached the engine
    EXPECT_FALSE(std::filesystem::exists(cfg.out_dir / "requests.csv"));
  }
}

// The right protocol still passes, and the Caikit check is recorded.
TEST(LiveFaults, CaikitReadinessRecordsTheServiceCheck) {
  const auto dir = temp_dir("caikit-ready");
  const auto ds_path = write_dataset(dir, 8, 4, 4);
  live::TwinOptions o;
  o.protocol = live::Protocol::kCaikit;
  live::TwinServer twin(o, fake_factory());
  auto cfg = base_config(twin.start(), ds_path, dir / "out");
  cfg.protocol = live::Protocol::kCaikit;
  cfg.concurrency = {2};
  cfg.requests = 4;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto res = runner.run(nullptr);
  ASSERT_FALSE(res.partial) << res.partial_reason;
  const auto& ready = res.summary["scenarios"][0]["resolved_config"]["readiness"];
  EXPECT_EQ(ready["service_check"]["answer"], "INVALID_ARGUMENT") << ready.dump();
  EXPECT_EQ(twin.stats().completed, 4);  // the probe never reached the engine
}

// An HTTP server without /v1/models is not an OpenAI server (here the gRPC twin's side /metrics
// port): exit-2 error at once, nothing sent.
TEST(LiveFaults, OpenAiReadinessRefuses404) {
  const auto dir = temp_dir("oai-404");
  const auto ds_path = write_dataset(dir, 8, 4, 4);
  live::TwinOptions o;
  o.metrics_listen = "127.0.0.1:0";
  live::TwinServer twin(o, fake_factory());
  twin.start();
  auto cfg = fake_openai_config(twin.metrics_port(), ds_path, dir / "out");
  cfg.concurrency = {1};
  cfg.requests = 2;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto t = Clock::now();
  EXPECT_THROW(runner.run(nullptr), live::ProtocolMismatchError);
  EXPECT_LT(seconds_since(t), 2.0);
  EXPECT_EQ(twin.stats().accepted, 0);
}

// A run against a fake OpenAI server that answers HTTP 500 to every `fail_every`-th completion,
// with a 1 s breaker window.
live::LoadResult run_with_500s(const std::string& tag, int fail_every, double duration_s) {
  const auto dir = temp_dir(tag);
  const auto ds_path = write_dataset(dir, 8, 4, 4);
  FakeOpenAiServer server([fail_every](const FakeOpenAiRequest& q) {
    FakeOpenAiReply r;
    if (q.target != "/v1/models" && std::stoi(q.request_id) % fail_every == 0) {
      r.kind = FakeOpenAiReply::kStatus;
      r.status = 500;
    }
    return r;
  });
  auto cfg = fake_openai_config(server.port(), ds_path, dir / "out");
  cfg.concurrency = {2};
  cfg.duration_s = duration_s;
  cfg.error_window_s = 1;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  return runner.run(nullptr);
}

// A server that fails every completion: the breaker stops the run after one window (partial),
// instead of the whole --duration of errors.
TEST(LiveFaults, ErrorRateBreakerStopsAFailingRun) {
  const auto t = Clock::now();
  const auto res = run_with_500s("breaker", 1, 30);
  EXPECT_LT(seconds_since(t), 5.0);  // one 1 s window, plus drain and outputs
  EXPECT_TRUE(res.partial);
  EXPECT_NE(res.partial_reason.find("error-rate breaker"), std::string::npos) << res.partial_reason;
  ASSERT_FALSE(res.records.empty());
  for (const auto& r : res.records) EXPECT_EQ(r.status_name, "500");
  EXPECT_EQ(res.summary["partial"], true);
}

// Errors below the rate do not trip it: one request in four fails, over three windows.
TEST(LiveFaults, ErrorRateBreakerToleratesErrorsBelowTheRate) {
  const auto res = run_with_500s("breaker-ok", 4, 3);
  EXPECT_FALSE(res.partial) << res.partial_reason;
  std::int64_t failed = 0;
  for (const auto& r : res.records) failed += r.status_name == "500";
  EXPECT_GT(failed, 0);
}

// 429 with Retry-After: 1: the refused user's next request goes out no sooner than 1 s later;
// the summary records the wait.
TEST(LiveFaults, RetryAfterIsHonoured) {
  const auto dir = temp_dir("retry-after");
  const auto ds_path = write_dataset(dir, 8, 4, 4);
  FakeOpenAiServer server([](const FakeOpenAiRequest& q) {
    FakeOpenAiReply r;
    if (q.request_id == "1") {
      r.kind = FakeOpenAiReply::kStatus;
      r.status = 429;
      r.retry_after = "1";
    }
    return r;
  });
  auto cfg = fake_openai_config(server.port(), ds_path, dir / "out");
  cfg.concurrency = {1};
  cfg.requests = 4;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto res = runner.run(nullptr);
  ASSERT_FALSE(res.partial) << res.partial_reason;
  ASSERT_EQ(res.records.size(), 4U);
  const auto& refused = res.records[1].rec;
  ASSERT_EQ(refused.status, RequestStatus::kRejected) << refused.error;
  const TimeNs gap = res.records[2].rec.arrival_ns - refused.finish_ns;
  EXPECT_GE(gap, kNsPerS);
  EXPECT_LT(gap, 2 * kNsPerS);  // honoured, not replaced by a longer wait
  const auto& b = res.summary["scenarios"][0]["stages"][0]["client_backoff"];
  EXPECT_EQ(b["waits"], 1);
  EXPECT_EQ(b["retry_after_waits"], 1);
  EXPECT_DOUBLE_EQ(b["total_wait_s"].get<double>(), 1.0);
}

// Twice the users the engine admits (RESOURCE_EXHAUSTED): with backoff the refused users retry a
// few times a second instead of thousands (issue 20: 185,129 rejections in 10 s, 1.27 GB).
TEST(LiveFaults, BackoffThrottlesRetriesOnResourceExhausted) {
  const auto dir = temp_dir("backoff");
  const auto ds_path = write_dataset(dir, 32, 8, 16);
  std::int64_t rejected[2] = {0, 0};
  for (const bool backoff : {false, true}) {
    FakeEngineParams p;
    p.max_concurrent = 4;
    live::TwinServer twin(live::TwinOptions{}, fake_factory(p));
    auto cfg = base_config(twin.start(), ds_path, dir / (backoff ? "on" : "off"));
    cfg.concurrency = {8};
    cfg.duration_s = 1.0;
    cfg.client_backoff = backoff;
    live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
    const auto res = runner.run(nullptr);
    ASSERT_FALSE(res.partial) << res.partial_reason;
    for (const auto& r : res.records) rejected[backoff ? 1 : 0] += r.rec.status == RequestStatus::kRejected;
    if (backoff) {
      EXPECT_EQ(res.summary["scenarios"][0]["stages"][0]["client_backoff"]["waits"].get<std::int64_t>(), rejected[1]);
    }
  }
  // Every refusal costs its user at least 0.05 s (the first wait, 0.1 s, jittered down to half), so
  // 8 users refuse at most 8 x 20 times in 1 s; without backoff a refused user retries after every
  // loopback round trip (well under a millisecond).
  EXPECT_GT(rejected[0], 0);
  EXPECT_GT(rejected[1], 0);
  EXPECT_LE(rejected[1], 8 * 20);
  EXPECT_GT(rejected[0], 10 * rejected[1]);
}

// A server that stops sending: the request is cancelled after --stall-timeout as class `stall`,
// long before the per-request timeout.
TEST(LiveFaults, StallTimeoutCancelsASilentRequest) {
  const auto dir = temp_dir("stall");
  const auto ds_path = write_dataset(dir, 8, 4, 4);
  FakeOpenAiServer server([](const FakeOpenAiRequest& q) {
    FakeOpenAiReply r;
    if (q.request_id == "0") r.kind = FakeOpenAiReply::kStall;
    return r;
  });
  auto cfg = fake_openai_config(server.port(), ds_path, dir / "out");
  cfg.concurrency = {1};
  cfg.requests = 2;
  cfg.timeout_s = 30;
  cfg.stall_timeout_s = 0.5;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto t = Clock::now();
  const auto res = runner.run(nullptr);
  EXPECT_LT(seconds_since(t), 3.0);
  ASSERT_EQ(res.records.size(), 2U);
  EXPECT_EQ(res.records[0].rec.status, RequestStatus::kTimeout);
  EXPECT_EQ(res.records[0].status_name, "stall");
  EXPECT_NE(res.records[0].rec.error.find("--stall-timeout"), std::string::npos) << res.records[0].rec.error;
  EXPECT_EQ(res.records[1].rec.status, RequestStatus::kOk) << res.records[1].rec.error;
  EXPECT_EQ(res.summary["scenarios"][0]["stages"][0]["http_status_counts"]["stall"], 1);
}

// First signal: stop sending and wait; second: cancel what is in flight at once, summary written.
TEST(LiveFaults, SecondSignalCancelsInFlightRequests) {
  const auto dir = temp_dir("second-signal");
  const auto ds_path = write_dataset(dir, 8, 4, 4);
  std::atomic<int> stalled{0};
  FakeOpenAiServer server([&stalled](const FakeOpenAiRequest& q) {
    FakeOpenAiReply r;
    if (q.target != "/v1/models") {
      r.kind = FakeOpenAiReply::kStall;  // a frozen server
      ++stalled;
    }
    return r;
  });
  auto cfg = fake_openai_config(server.port(), ds_path, dir / "out");
  cfg.concurrency = {3};
  cfg.duration_s = 60;
  cfg.timeout_s = 240;
  cfg.stall_timeout_s = 0;  // only the signals end it
  std::atomic<bool> stop{false}, cancel_now{false};
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  Clock::time_point second_at;
  std::thread signaller([&] {
    // The first signal once all three users' requests reached the server (not after a fixed sleep, which a
    // loaded machine can outrun before the runner is ready); at most 10 s.
    const auto give_up = Clock::now() + std::chrono::seconds(10);
    while (stalled.load() < 3 && Clock::now() < give_up) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    stop = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    second_at = Clock::now();
    cancel_now = true;
  });
  const auto res = runner.run(&stop, &cancel_now);
  signaller.join();
  EXPECT_LT(seconds_since(second_at), 5.0);
  EXPECT_TRUE(res.partial);
  EXPECT_NE(res.partial_reason.find("second signal"), std::string::npos) << res.partial_reason;
  ASSERT_EQ(res.records.size(), 3U);  // the three users' requests, each recorded
  for (const auto& r : res.records) {
    EXPECT_EQ(r.rec.status, RequestStatus::kUnfinished);
    EXPECT_EQ(r.status_name, "cancelled");
  }
  EXPECT_TRUE(std::filesystem::exists(cfg.out_dir / "summary.json"));
  EXPECT_EQ(read_lines(cfg.out_dir / "requests.csv").size(), 4U);
}

TEST(LiveFaults, RetryAfterSecondsParsesDelaySecondsOnly) {
  EXPECT_EQ(live::retry_after_seconds("3"), 3);
  EXPECT_EQ(live::retry_after_seconds(" 120 "), 120);
  EXPECT_EQ(live::retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), -1);  // HTTP-date: own backoff
  EXPECT_EQ(live::retry_after_seconds("-1"), -1);
  EXPECT_EQ(live::retry_after_seconds("1.5"), -1);
  EXPECT_EQ(live::retry_after_seconds(""), -1);
  EXPECT_EQ(live::retry_after_seconds("99999999999"), -1);
}

}  // namespace
}  // namespace servetwin::testing
