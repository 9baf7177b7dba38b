// OpenAI client benchmark (not a unit test): `servetwin load --protocol openai-completions`'s runner
// against the fake OpenAI server (tests/live/fake_openai_server.*) running in a child process, so
// the client's CPU time (getrusage of this process) is the runner's alone. N concurrent streams
// (closed loop), each token paced by the server; reports SSE text events/s received, client CPU
// per event, and the client timestamp overhead: TTFT as the runner recorded it minus the time the
// server's write of the first token's chunk returned (same host, both steady_clock).
// Usage: live_openai_bench [streams=1000] [tokens=100] [token_gap_us=20000] [seconds=6]
// The server is thread-per-connection and synchronous: at high rates it, not the client, may set
// the events/s; its CPU is reported beside the client's.
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <thread>

#include "tests/live/fake_openai_server.hpp"
#include "tests/live/live_test_util.hpp"

extern char** environ;

namespace st = servetwin;

namespace {

double cpu_seconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int run_server(const std::string& portfile, const std::string& logfile, int gap_us) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // every thread inherits it; sigwait below takes it
  const double cpu0 = cpu_seconds(RUSAGE_SELF);
  st::testing::FakeOpenAiServer server([gap_us](const st::testing::FakeOpenAiRequest&) {
    st::testing::FakeOpenAiReply r;
    r.token_gap_us = gap_us;
    return r;
  });
  {
    std::ofstream f(portfile + ".tmp");
    f << server.port() << '\n';
  }
  std::filesystem::rename(portfile + ".tmp", portfile);
  int sig = 0;
  sigwait(&set, &sig);
  std::ofstream log(logfile);
  log << "cpu_s " << cpu_seconds(RUSAGE_SELF) - cpu0 << '\n';
  for (const auto& [id, t] : server.first_token_writes()) log << id << ' ' << t << '\n';
  log.close();
  std::_Exit(0);  // do not wait for the connection threads
}

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::strcmp(argv[1], "--server") == 0) return run_server(argv[2], argv[3], std::atoi(argv[4]));
  const int streams = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int tokens = argc > 2 ? std::atoi(argv[2]) : 100;
  const int gap_us = argc > 3 ? std::atoi(argv[3]) : 20000;
  const double seconds = argc > 4 ? std::atof(argv[4]) : 6;
  const auto dir = st::testing::temp_dir("openai-bench");
  const auto portfile = dir / "port", logfile = dir / "server.log";
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string a1 = "--server", a2 = portfile.string(), a3 = logfile.string(), a4 = std::to_string(gap_us);
  char* child_argv[] = {self.data(), a1.data(), a2.data(), a3.data(), a4.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, self.c_str(), nullptr, nullptr, child_argv, environ) != 0) return 1;
  for (int i = 0; i < 200 && !std::filesystem::exists(portfile); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int port = 0;
  std::ifstream(portfile) >> port;
  const auto ds_path = st::testing::write_dataset(dir, 64, tokens, tokens);
  auto cfg = st::testing::base_config(port, ds_path, dir / "out");
  cfg.target = "http://127.0.0.1:" + std::to_string(port);
  cfg.protocol = st::live::Protocol::kOpenaiCompletions;
  cfg.concurrency = {streams};
  cfg.duration_s = seconds;
  cfg.timeout_s = 60;
  cfg.poll_threads = 1;
  const double cpu0 = cpu_seconds(RUSAGE_SELF);
  st::live::LoadRunner runner(cfg, st::load_dataset(ds_path, ""));
  const auto res = runner.run(nullptr);
  const double client_cpu_s = cpu_seconds(RUSAGE_SELF) - cpu0;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  std::map<std::string, std::int64_t> writes;
  double server_cpu_s = 0;
  {
    std::ifstream log(logfile);
    std::string key;
    log >> key >> server_cpu_s;
    std::int64_t t = 0;
    while (log >> key >> t) writes[key] = t;
  }
  const auto& w = res.stages.at(0);
  std::int64_t events = 0, events_in_window = 0, ok = 0;
  std::vector<double> overhead_ms;
  const auto t0_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(res.t0.time_since_epoch()).count();
  for (const auto& r : res.records) {
    ok += r.rec.status == st::RequestStatus::kOk;
    for (const auto& [t, cum] : r.messages) {
      if (cum == 0) continue;  // the ack (response header)
      ++events;
      events_in_window += t >= w.window_start_ns && t < w.window_end_ns;
    }
    const auto it = writes.find(std::to_string(r.rec.request_id));
    if (it != writes.end() && r.rec.first_token_ns >= 0) {
      overhead_ms.push_back(static_cast<double>(t0_ns + r.rec.first_token_ns - it->second) / 1e6);
    }
  }
  // The [DONE] message repeats the final count; count text events only (one per token here).
  events -= static_cast<std::int64_t>(res.records.size());
  const double window_s = st::ns_to_seconds(w.window_end_ns - w.window_start_ns);
  const nlohmann::json out = {
      {"streams", streams}, {"tokens_per_request", tokens}, {"token_gap_us", gap_us},
      {"requests", res.records.size()}, {"ok", ok},
      {"sse_text_events_per_s_in_window", static_cast<double>(events_in_window) / window_s},
      {"client_cpu_s", client_cpu_s}, {"server_cpu_s", server_cpu_s},
      {"client_cpu_us_per_event", events > 0 ? client_cpu_s * 1e6 / static_cast<double>(events) : 0.0},
      {"timestamp_overhead_ms", {{"n", overhead_ms.size()}, {"p50", pct(overhead_ms, 0.5)},
                                 {"p99", pct(overhead_ms, 0.99)}, {"max", pct(overhead_ms, 1.0)}}}};
  std::cout << out.dump() << std::endl;
  std::filesystem::remove_all(dir);
  return 0;
}
