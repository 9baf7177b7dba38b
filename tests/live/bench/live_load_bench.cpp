// Bounded load benchmark of the live path (runner + twin over loopback, in one process):
//   1. throughput: N concurrent streams (default 2000) for D seconds; stream messages received/s
//      and errors;
//   2. timestamp overhead at 1000 streams: TTFT as the runner records it minus the time the twin
//      handed the first-token message to gRPC (both steady_clock, same host), p50/p99; also the
//      same against the time the engine emitted the token (adds the twin's ack-write wait).
// The twin's engine is the test engine in independent-streams mode (each stream emits on its own
// clock; by default with spread phases, see FakeEngineParams::spread_phases): what is measured is the gRPC path, not an engine model. Prints one JSON object on stdout.
// Usage: live_load_bench [streams=2000] [seconds=6] [step_ms=30] [overhead_streams=1000]
//                        [overhead_step_ms=100] [connections=streams/500] [spread|aligned]
// The overhead phase uses a slower engine step by default: it measures timestamp accuracy at 1000
// concurrent streams, not throughput, and must not saturate the machine.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tests/live/live_test_util.hpp"

using namespace servetwin;
using namespace servetwin::testing;

namespace {

nlohmann::json run_phase(int streams, double seconds, TimeNs step_ns, bool overhead, int connections, bool spread) {
  const auto dir = temp_dir("bench-" + std::to_string(streams) + (overhead ? "-o" : ""));
  const auto ds_path = write_dataset(dir, 256, 40, 60);
  FakeEngineParams p;
  p.max_concurrent = streams * 2;
  p.step_base_ns = step_ns;
  p.step_per_seq_ns = 0;
  p.prefill_per_token_ns = 0;
  p.independent_streams = true;
  p.spread_phases = spread;
  live::TwinOptions o;
  o.log_emissions = overhead;
  live::TwinServer twin(o, fake_factory(p));
  const int port = twin.start();
  auto cfg = base_config(port, ds_path, dir / "out");
  cfg.concurrency = {streams};
  cfg.duration_s = seconds;
  // Throughput: no warmup, so every request's messages count (warmup requests are not returned).
  // Overhead: 1 s warmup, so the measured first tokens are not the start-up burst.
  cfg.warmup_s = overhead ? 1.0 : 0.0;
  cfg.timeout_s = 30;
  cfg.connections = connections > 0 ? connections : std::max(1, streams / 500);
  live::LoadRunner runner(cfg, live::read_dataset(ds_path));
  const auto wall_start = std::chrono::steady_clock::now();
  const auto res = runner.run(nullptr);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const auto& w = res.stages.at(0);
  std::int64_t msgs = 0, errors = 0, ok = 0;
  for (const auto& r : res.records) {
    for (const auto& [t, cum] : r.messages) msgs += (t >= w.window_start_ns && t < w.window_end_ns) ? 1 : 0;
    errors += r.rec.status != RequestStatus::kOk;
    ok += r.rec.status == RequestStatus::kOk;
  }
  const double window_s = ns_to_seconds(w.window_end_ns - w.window_start_ns);
  nlohmann::json j = {{"streams", streams},
                      {"engine_step_ms", ns_to_ms(step_ns)},
                      {"connections", cfg.connections},
                      {"window_s", window_s},
                      {"requests_ok", ok},
                      {"requests_error", errors},
                      {"messages_in_window", msgs},
                      {"messages_per_s", static_cast<double>(msgs) / window_s},
                      {"twin_messages_sent", twin.stats().messages},
                      {"twin_messages_per_s_whole_run", static_cast<double>(twin.stats().messages) / wall_s}};
  if (overhead) {
    // Runner timestamp overhead: the runner's first-token time minus the twin's time for the same
    // token, both steady_clock on one host. Against two twin times: when the first-token message
    // was handed to gRPC (StartWrite: what the runner's timestamping is measured from), and when
    // the engine emitted it (includes the twin's wait for the ack's write to complete).
    const auto t0 = std::chrono::duration_cast<std::chrono::nanoseconds>(res.t0.time_since_epoch()).count();
    auto overhead_us = [&](const std::map<std::string, std::int64_t>& twin_ns) {
      std::vector<double> us;
      for (const auto& r : res.records) {
        if (r.rec.first_token_ns < 0) continue;
        auto it = twin_ns.find(std::to_string(r.rec.request_id));
        if (it == twin_ns.end()) continue;
        us.push_back(static_cast<double>(t0 + r.rec.first_token_ns - it->second) / 1e3);
      }
      const auto d = summarize(us);
      return nlohmann::json{{"n", d.n}, {"p50", d.p50}, {"p90", d.p90}, {"p99", d.p99}, {"max", d.max}};
    };
    j["timestamp_overhead_us"] = overhead_us(twin.first_token_handoffs());
    j["first_token_latency_from_engine_emission_us"] = overhead_us(twin.first_token_emissions());
  }
  std::filesystem::remove_all(dir);
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  const int streams = argc > 1 ? std::atoi(argv[1]) : 2000;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 6.0;
  const TimeNs step_ns = (argc > 3 ? std::atoi(argv[3]) : 30) * kNsPerMs;
  const int overhead_streams = argc > 4 ? std::atoi(argv[4]) : 1000;
  const TimeNs overhead_step_ns = (argc > 5 ? std::atoi(argv[5]) : 100) * kNsPerMs;
  const int connections = argc > 6 ? std::atoi(argv[6]) : 0;  // 0 = one per 500 streams
  // Stream phases: spread (default; tokens arrive continuously) or aligned (every stream emits in
  // the same instant once per step, as a batched engine does).
  const bool spread = !(argc > 7 && std::string(argv[7]) == "aligned");
  if (streams <= 0 || seconds <= 0 || seconds > 60 || step_ns <= 0 || overhead_streams <= 0 || overhead_step_ns <= 0) {
    std::cerr << "usage: live_load_bench [streams] [seconds<=60] [step_ms] [overhead_streams]\n";
    return 2;
  }
  nlohmann::json out;
  out["throughput"] = run_phase(streams, seconds, step_ns, false, connections, spread);
  out["overhead"] = run_phase(overhead_streams, seconds, overhead_step_ns, true, connections, spread);
  out["stream_phases"] = spread ? "spread" : "aligned";
  std::cout << out.dump(2) << '\n';
  return 0;
}
