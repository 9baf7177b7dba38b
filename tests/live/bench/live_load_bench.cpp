// Bounded load benchmark of the live path (runner + twin over loopback, in one process):
//   1. throughput: N concurrent streams (default 2000) for D seconds; stream messages received/s
//      and errors;
//   2. timestamp overhead at 1000 streams: TTFT as the runner records it minus the time the twin
//      handed the first-token message to gRPC (both steady_clock, same host), p50/p99; also the
//      same against the time the engine emitted the token (adds the twin's ack-write wait).
// The twin's engine is the test engine in independent-streams mode (each stream emits on its own
// clock; by default with spread phases, see FakeEngineParams::spread_phases): what is measured is
// the gRPC path, not an engine model. Prints one JSON object on stdout; each phase includes the
// host's CPU split over the phase (busy / idle / hypervisor steal, /proc/stat).
// Usage: live_load_bench [streams=2000] [seconds=6] [step_ms=30] [overhead_streams=1000]
//                        [overhead_step_ms=100] [connections=1] [spread|aligned] [one|split]
//                        [threads=0 (automatic)]
// The overhead phase uses a slower engine step by default: it measures timestamp accuracy at 1000
// concurrent streams, not throughput, and must not saturate the machine.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "tests/live/bench/bench_child.hpp"
#include "tests/live/live_test_util.hpp"

using namespace servetwin;
using namespace servetwin::testing;

namespace {

// What the twin reports after a phase (in this process or from the twin process).
struct TwinReport {
  std::int64_t messages = 0;
  std::map<std::string, std::int64_t> emissions, handoffs;
};

// `live_load_bench --twin STREAMS STEP_NS SPREAD LOG`: the twin alone (separate-process mode).
// Prints the port, serves until stdin closes, then prints its report as JSON.
int twin_process(char** argv) {
  live::TwinOptions o;
  o.log_emissions = std::atoi(argv[5]) != 0;
  live::TwinServer twin(o, fake_factory(bench_stream_params(std::atoi(argv[2]), std::atoll(argv[3]), std::atoi(argv[4]) != 0)));
  std::cout << twin.start() << std::endl;
  while (std::cin.get() != EOF) {
  }
  twin.shutdown(0);
  std::cout << nlohmann::json{{"messages", twin.stats().messages},
                              {"emissions", twin.first_token_emissions()},
                              {"handoffs", twin.first_token_handoffs()}}
            << std::endl;
  return 0;
}

// The twin in a child process (`--twin` mode of this binary).
class TwinChild {
 public:
  TwinChild(const char* self, int streams, TimeNs step_ns, bool spread, bool log)
      : child_(self, {"--twin", std::to_string(streams), std::to_string(step_ns), spread ? "1" : "0", log ? "1" : "0"}) {}
  [[nodiscard]] int port() const { return child_.port(); }
  TwinReport finish() {
    const auto j = nlohmann::json::parse(child_.finish());
    return {j["messages"].get<std::int64_t>(), j["emissions"].get<std::map<std::string, std::int64_t>>(),
            j["handoffs"].get<std::map<std::string, std::int64_t>>()};
  }

 private:
  BenchChild child_;
};

const char* g_self = nullptr;

// The host's CPU time counters (first line of /proc/stat, USER_HZ ticks summed over CPUs). On a VM,
// `steal` is time the hypervisor ran something else while a vCPU wanted to run: the tail of the
// timestamp overhead follows it, so each phase reports it next to its figures.
struct HostCpuTicks {
  long long busy = 0, idle = 0, steal = 0;
};
HostCpuTicks read_host_cpu_ticks() {
  std::ifstream f("/proc/stat");
  std::string label;
  long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(f >> label >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal)) return {};
  return {user + nice + system + irq + softirq, idle + iowait, steal};
}

// Percent of all vCPU time between two readings: busy (this benchmark and anything else running),
// idle, and stolen by the hypervisor.
nlohmann::json host_cpu_between(const HostCpuTicks& a, const HostCpuTicks& b) {
  const double busy = static_cast<double>(b.busy - a.busy);
  const double idle = static_cast<double>(b.idle - a.idle);
  const double steal = static_cast<double>(b.steal - a.steal);
  const double total = busy + idle + steal;
  if (total <= 0) return nullptr;
  return {{"busy_pct", 100 * busy / total}, {"idle_pct", 100 * idle / total}, {"steal_pct", 100 * steal / total}};
}

nlohmann::json run_phase(int streams, double seconds, TimeNs step_ns, bool overhead, int connections, bool spread,
                         bool split, int threads) {
  const auto dir = temp_dir("bench-" + std::to_string(streams) + (overhead ? "-o" : ""));
  const auto ds_path = write_dataset(dir, 256, 40, 60);
  std::unique_ptr<live::TwinServer> twin;
  std::unique_ptr<TwinChild> child;
  int port = 0;
  if (split) {
    child = std::make_unique<TwinChild>(g_self, streams, step_ns, spread, overhead);
    port = child->port();
  } else {
    live::TwinOptions o;
    o.log_emissions = overhead;
    twin = std::make_unique<live::TwinServer>(o, fake_factory(bench_stream_params(streams, step_ns, spread)));
    port = twin->start();
  }
  auto cfg = base_config(port, ds_path, dir / "out");
  cfg.concurrency = {streams};
  cfg.duration_s = seconds;
  // Throughput: no warmup, so every request's messages count (warmup requests are not returned).
  // Overhead: 1 s warmup, so the measured first tokens are not the start-up burst.
  cfg.warmup_s = overhead ? 1.0 : 0.0;
  cfg.timeout_s = 30;
  cfg.connections = connections;
  cfg.poll_threads = threads;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto wall_start = std::chrono::steady_clock::now();
  const auto cpu_start = read_host_cpu_ticks();
  const auto res = runner.run(nullptr);
  const auto cpu_end = read_host_cpu_ticks();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  TwinReport tr;
  if (child) {
    tr = child->finish();
  } else {
    tr = {twin->stats().messages, twin->first_token_emissions(), twin->first_token_handoffs()};
  }
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
                      {"runner_poll_threads", live::resolved_poll_threads(cfg.poll_threads)},
                      {"window_s", window_s},
                      {"requests_ok", ok},
                      {"requests_error", errors},
                      {"messages_in_window", msgs},
                      {"messages_per_s", static_cast<double>(msgs) / window_s},
                      {"twin_messages_sent", tr.messages},
                      {"twin_messages_per_s_whole_run", static_cast<double>(tr.messages) / wall_s},
                      {"host_cpu", host_cpu_between(cpu_start, cpu_end)}};
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
    j["timestamp_overhead_us"] = overhead_us(tr.handoffs);
    j["first_token_latency_from_engine_emission_us"] = overhead_us(tr.emissions);
  }
  std::filesystem::remove_all(dir);
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 6 && std::string(argv[1]) == "--twin") return twin_process(argv);
  g_self = "/proc/self/exe";
  const int streams = argc > 1 ? std::atoi(argv[1]) : 2000;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 6.0;
  const TimeNs step_ns = (argc > 3 ? std::atoi(argv[3]) : 30) * kNsPerMs;
  const int overhead_streams = argc > 4 ? std::atoi(argv[4]) : 1000;
  const TimeNs overhead_step_ns = (argc > 5 ? std::atoi(argv[5]) : 100) * kNsPerMs;
  // Default 1, as `servetwin load` (LoadConfig::connections): on 2 cores one connection carries the
  // most (fewer, larger reads and writes per syscall): 57-61k msgs/s vs 36-52k with 4 (2026-11-25).
  const int connections = argc > 6 ? std::max(1, std::atoi(argv[6])) : 1;
  // Stream phases: spread (default; tokens arrive continuously) or aligned (every stream emits in
  // the same instant once per step, as a batched engine does).
  const bool spread = !(argc > 7 && std::string(argv[7]) == "aligned");
  // Processes: one (runner and twin share gRPC's threads) or split (the twin in a child process,
  // as `servetwin serve` + `servetwin load` run).
  const bool split = argc > 8 && std::string(argv[8]) == "split";
  // The runner's completion-queue polling threads (LoadConfig::poll_threads; 0 = automatic).
  const int threads = argc > 9 ? std::max(0, std::atoi(argv[9])) : 0;
  if (streams <= 0 || seconds <= 0 || seconds > 60 || step_ns <= 0 || overhead_streams <= 0 || overhead_step_ns <= 0) {
    std::cerr << "usage: live_load_bench [streams] [seconds<=60] [step_ms] [overhead_streams]\n";
    return 2;
  }
  nlohmann::json out;
  out["throughput"] = run_phase(streams, seconds, step_ns, false, connections, spread, split, threads);
  out["overhead"] = run_phase(overhead_streams, seconds, overhead_step_ns, true, connections, spread, split, threads);
  out["processes"] = split ? "split" : "one";
  out["stream_phases"] = spread ? "spread" : "aligned";
  std::cout << out.dump(2) << '\n';
  return 0;
}
