// Runner-vs-twin benchmark (not a unit test), OpenAI and gRPC in one run: the OpenAI runner
// (`load --protocol openai-completions`) against the OpenAI twin (`serve --protocol openai`) and the
// gRPC runner (TGIS) against the gRPC twin, each twin in a child process (this binary with
// `--twin`), alternating, `repeats` pairs. The twin's engine is the test engine in independent-
// streams mode (each stream emits one token every step on its own clock, phases spread), so the
// HTTP/SSE and gRPC paths are measured, not an engine model: at 1,000 streams and a 20 ms step it
// offers 50k tokens/s. Closed loop; the first second is left out, then `seconds` are measured.
//
// Per run: SSE/stream token events received per second (in the measured window); client CPU
// (getrusage of this process over the run) and server CPU (of the twin process) per token event
// (the twin's count of tokens sent, warmup included); the first-token latency from the twin's
// hand-off of the token to its protocol adapter to the runner's timestamp (an upper bound on the
// client's timestamp overhead: it includes the twin's write and the loopback), p50/p99; and the
// runner's TTFT p50 and ITL mean against the twin's own (from its receipt and send times,
// TwinSentRecord), as relative deltas. Then the median and [min, max] of each over the repeats.
// Usage: live_openai_bench [streams=1000] [seconds=4] [repeats=3] [step_ms=20] [both|openai|grpc]
// (one protocol alone is for profiling: the pairs are the measurement).
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tests/live/bench/bench_child.hpp"
#include "tests/live/live_test_util.hpp"

using namespace servetwin;
using namespace servetwin::testing;

namespace {

// This process's CPU seconds and context switches (voluntary + involuntary): on a shared machine
// the switch count, unlike CPU time, does not grow with the other processes' cache pollution.
struct Usage {
  double cpu_s = 0;
  double switches = 0;
};
Usage usage_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return {static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
              static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6,
          static_cast<double>(u.ru_nvcsw + u.ru_nivcsw)};
}

double load_average_1min() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}

// `live_openai_bench --twin openai|grpc STREAMS STEP_NS`: the twin alone. Prints its port, serves
// until stdin closes, then prints its CPU time and what it sent per request (TwinSentRecord).
int twin_process(char** argv) {
  live::TwinOptions o;
  o.log_emissions = true;
  o.front_end = std::string(argv[2]) == "openai" ? live::TwinFrontEnd::kOpenai : live::TwinFrontEnd::kGrpc;
  live::TwinServer twin(o, fake_factory(bench_stream_params(std::atoi(argv[3]), std::atoll(argv[4]), true)));
  const int port = twin.start();
  const Usage u0 = usage_now();
  std::cout << port << std::endl;
  while (std::cin.get() != EOF) {
  }
  const Usage u1 = usage_now();
  twin.shutdown(0);
  nlohmann::json sent = nlohmann::json::array();
  for (const auto& s : twin.sent_log()) {
    sent.push_back({s.x_request_id, s.received_ns, s.first_token_sent_ns, s.last_token_sent_ns, s.tokens});
  }
  std::cout << nlohmann::json{{"cpu_s", u1.cpu_s - u0.cpu_s}, {"switches", u1.switches - u0.switches}, {"sent", sent}}
            << std::endl;
  return 0;
}

const char* g_self = "/proc/self/exe";
// The start-up burst (every stream connects and sends at once) is left out of the measurement.
constexpr double kSkipS = 1.0;

double rel_delta_pct(double runner, double twin) { return twin != 0 ? 100.0 * (runner - twin) / twin : 0.0; }

// Token events of one record (a message whose cumulative count grew): times of the first and last,
// and how many. OpenAI's `data: [DONE]` repeats the final count and is not one.
struct TokenTimes {
  TimeNs first = -1, last = -1;
  std::int64_t n = 0;
};
TokenTimes token_times(const live::LiveRecord& r) {
  TokenTimes tt;
  std::int64_t prev = 0;
  for (const auto& [t, cum] : r.messages) {
    if (cum <= prev) continue;
    prev = cum;
    if (tt.first < 0) tt.first = t;
    tt.last = t;
    ++tt.n;
  }
  return tt;
}

nlohmann::json run_phase(bool openai, int streams, double seconds, TimeNs step_ns) {
  const auto dir = temp_dir(std::string("oai-bench-") + (openai ? "openai" : "grpc"));
  const auto ds_path = write_dataset(dir, 256, 40, 60);
  const double load_avg = load_average_1min();
  BenchChild child(g_self, {"--twin", openai ? "openai" : "grpc", std::to_string(streams), std::to_string(step_ns)});
  auto cfg = base_config(child.port(), ds_path, dir / "out");
  if (openai) {
    cfg.target = "http://127.0.0.1:" + std::to_string(child.port());
    cfg.protocol = live::Protocol::kOpenaiCompletions;
  }
  cfg.concurrency = {streams};
  // No runner warmup (its warmup requests are not returned, and their tokens fall in the window
  // too): the bench skips the first second itself, for the events and for the compared requests.
  cfg.duration_s = kSkipS + seconds;
  cfg.warmup_s = 0;
  cfg.timeout_s = 30;
  const Usage u0 = usage_now();
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto res = runner.run(nullptr);
  const Usage u1 = usage_now();
  const double client_cpu_s = u1.cpu_s - u0.cpu_s;
  const auto twin = nlohmann::json::parse(child.finish());

  std::unordered_map<std::string, std::array<std::int64_t, 4>> sent;  // id -> received, first, last, tokens
  std::int64_t twin_tokens = 0;
  for (const auto& s : twin["sent"]) {
    sent[s[0].get<std::string>()] = {s[1].get<std::int64_t>(), s[2].get<std::int64_t>(), s[3].get<std::int64_t>(),
                                     s[4].get<std::int64_t>()};
    twin_tokens += s[4].get<std::int64_t>();
  }
  const auto& w = res.stages.at(0);
  const TimeNs window_start_ns = w.window_start_ns + static_cast<TimeNs>(kSkipS * 1e9);
  const auto t0 = std::chrono::duration_cast<std::chrono::nanoseconds>(res.t0.time_since_epoch()).count();
  std::int64_t events_in_window = 0, ok = 0, errors = 0;
  std::vector<double> overhead_us, runner_ttft_ms, twin_ttft_ms;
  double runner_gap_ns = 0, twin_gap_ns = 0, gaps = 0;
  for (const auto& r : res.records) {
    ok += r.rec.status == RequestStatus::kOk;
    errors += r.rec.status != RequestStatus::kOk;
    std::int64_t prev = 0;
    for (const auto& [t, cum] : r.messages) {
      if (cum > prev) events_in_window += t >= window_start_ns && t < w.window_end_ns;
      prev = std::max(prev, cum);
    }
    const auto it = sent.find(std::to_string(r.rec.request_id));
    // Compared: requests sent after the start-up burst that completed on both sides.
    if (it == sent.end() || r.rec.status != RequestStatus::kOk || r.rec.arrival_ns < window_start_ns) continue;
    const auto& [received, first, last, n] = it->second;
    const TokenTimes tt = token_times(r);
    if (tt.n != n || n < 1) continue;  // both sides must have seen the same tokens to compare them
    overhead_us.push_back(static_cast<double>(t0 + tt.first - first) / 1e3);
    runner_ttft_ms.push_back(static_cast<double>(tt.first - r.rec.arrival_ns) / 1e6);
    twin_ttft_ms.push_back(static_cast<double>(first - received) / 1e6);
    runner_gap_ns += static_cast<double>(tt.last - tt.first);
    twin_gap_ns += static_cast<double>(last - first);
    gaps += static_cast<double>(n - 1);
  }
  const double window_s = ns_to_seconds(w.window_end_ns - window_start_ns);
  const auto oh = summarize(overhead_us);
  const double runner_ttft_p50 = summarize(runner_ttft_ms).p50, twin_ttft_p50 = summarize(twin_ttft_ms).p50;
  const double runner_itl_ms = gaps > 0 ? runner_gap_ns / gaps / 1e6 : 0, twin_itl_ms = gaps > 0 ? twin_gap_ns / gaps / 1e6 : 0;
  const double tokens = std::max<double>(1, static_cast<double>(twin_tokens));
  std::filesystem::remove_all(dir);
  return {{"protocol", openai ? "openai" : "grpc"},
          {"load_avg_1min_at_start", load_avg},
          {"requests_ok", ok},
          {"requests_error", errors},
          {"events_per_s", static_cast<double>(events_in_window) / window_s},
          {"client_cpu_us_per_event", client_cpu_s * 1e6 / tokens},
          {"server_cpu_us_per_event", twin["cpu_s"].get<double>() * 1e6 / tokens},
          {"client_switches_per_event", (u1.switches - u0.switches) / tokens},
          {"server_switches_per_event", twin["switches"].get<double>() / tokens},
          {"client_cpu_s", client_cpu_s},
          {"server_cpu_s", twin["cpu_s"]},
          {"compared_requests", overhead_us.size()},
          {"overhead_p50_us", oh.p50},
          {"overhead_p99_us", oh.p99},
          {"overhead_max_us", oh.max},
          {"runner_ttft_p50_ms", runner_ttft_p50},
          {"twin_ttft_p50_ms", twin_ttft_p50},
          {"ttft_p50_delta_pct", rel_delta_pct(runner_ttft_p50, twin_ttft_p50)},
          {"runner_itl_mean_ms", runner_itl_ms},
          {"twin_itl_mean_ms", twin_itl_ms},
          {"itl_mean_delta_pct", rel_delta_pct(runner_itl_ms, twin_itl_ms)}};
}

// Median and [min, max] of every numeric field over the runs of one protocol.
nlohmann::json spread_of(const std::vector<nlohmann::json>& runs) {
  nlohmann::json out;
  for (const auto& [key, v] : runs.front().items()) {
    if (!v.is_number()) continue;
    std::vector<double> xs;
    for (const auto& r : runs) xs.push_back(r[key].get<double>());
    const auto d = summarize(xs);
    out[key] = {{"median", d.p50}, {"min", d.min}, {"max", d.max}};
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--twin") return twin_process(argv);
  const int streams = argc > 1 ? std::atoi(argv[1]) : 1000;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 4.0;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  const TimeNs step_ns = (argc > 4 ? std::atoi(argv[4]) : 20) * kNsPerMs;
  if (streams <= 0 || seconds <= 0 || seconds > 60 || repeats <= 0 || repeats > 20 || step_ns <= 0) {
    std::cerr << "usage: live_openai_bench [streams>0] [seconds<=60] [repeats<=20] [step_ms>0]\n";
    return 2;
  }
  const std::string which = argc > 5 ? argv[5] : "both";
  if (which != "openai" && which != "grpc" && which != "both") {
    std::cerr << "live_openai_bench: the 5th argument must be both, openai or grpc (got '" << which << "')\n";
    return 2;
  }
  std::vector<nlohmann::json> openai_runs, grpc_runs;
  nlohmann::json out;
  for (int i = 0; i < repeats; ++i) {
    if (which != "both") {
      std::cerr << run_phase(which == "openai", streams, seconds, step_ns).dump() << '\n';
      continue;
    }
    openai_runs.push_back(run_phase(true, streams, seconds, step_ns));
    std::cerr << openai_runs.back().dump() << '\n';
    grpc_runs.push_back(run_phase(false, streams, seconds, step_ns));
    std::cerr << grpc_runs.back().dump() << '\n';
    // Client CPU per event, OpenAI over gRPC, within the pair (same machine state).
    out["client_cpu_ratio_openai_over_grpc"].push_back(openai_runs.back()["client_cpu_us_per_event"].get<double>() /
                                                      grpc_runs.back()["client_cpu_us_per_event"].get<double>());
  }
  if (which != "both") return 0;
  out["streams"] = streams;
  out["seconds"] = seconds;
  out["step_ms"] = ns_to_ms(step_ns);
  out["offered_events_per_s"] = static_cast<double>(streams) / ns_to_seconds(step_ns);
  out["openai"] = spread_of(openai_runs);
  out["grpc"] = spread_of(grpc_runs);
  std::cout << out.dump(1) << '\n';
  return 0;
}
