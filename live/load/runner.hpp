#pragma once
// The live load runner behind `servetwin load`: drives a server (TGIS or Caikit gRPC, or the OpenAI
// HTTP API) with llm-load-test's closed loop (N users, each sends its next request when the
// previous completes) or an open loop (seeded arrivals), measures every stream message, and writes
// the shared output schema plus an llm-load-test-compatible JSON.
//
// The runner core (this file's LoadRunner) knows no protocol; each protocol is one Transport
// (transport.hpp). Concurrency model: a small pool of polling threads (`poll_threads`; no thread
// per user) receives and timestamps every message (steady_clock, before any parsing); records
// are written by the control thread.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sim/formats/write_formats.hpp"
#include "live/common/util.hpp"
#include "live/load/prompt_supply.hpp"
#include "live/load/transport.hpp"
#include "sim/metrics/request_record.hpp"
#include "sim/workload/client_backoff.hpp"

namespace servetwin::live {

struct LoadConfig {
  std::string target;  // gRPC: host:port; OpenAI: http(s)://host:port
  Protocol protocol = Protocol::kTgis;
  // TGIS body model_id / Caikit `mm-model-id` metadata / OpenAI `model` (empty: the first model
  // that GET /v1/models lists).
  std::string model_id;
  bool tls = false;             // gRPC: --tls; OpenAI: an https:// target
  std::string ca_file;          // PEM roots for TLS (empty = system roots)
  bool tls_insecure = false;    // OpenAI over https: do not verify the server's certificate
  std::string api_key;          // OpenAI: sent as `Authorization: Bearer ...` (empty = none)
  double temperature = 0;       // OpenAI: sampling temperature (0 = greedy, as the gRPC requests)
  bool ignore_eos = true;       // OpenAI (vLLM extension): generate exactly max_tokens
  std::string dataset_path;     // as given (for the reports); the prompts come from the PromptSupply
  std::vector<int> concurrency;  // closed loop: one stage per value
  std::vector<double> rates;     // open loop (req/s): one stage per value
  std::string arrival = "poisson";  // open loop: sim/workload/arrivals.hpp's forms (poisson | constant | gamma:CV)
  int max_in_flight = 0;         // open loop cap (0 = none); arrivals wait for a free slot
  double duration_s = 0;         // measured part of each stage (0 = count requests instead)
  std::int64_t requests = 0;     // measured requests per stage (0 = use duration)
  double warmup_s = 0;           // per stage, excluded from results
  std::int64_t warmup_requests = 0;
  double timeout_s = 240;        // per-request deadline, and how long to wait for in-flight requests at the end
  bool stream = true;
  std::filesystem::path out_dir;
  // Foreign result formats written per stage beside summary.json (`--formats`; docs/result-formats.md).
  std::vector<formats::OutFormat> out_formats;
  std::uint64_t seed = 0;
  double ready_timeout_s = 60;
  int connections = 1;           // HTTP/2 connections (channels) the requests are spread over
  // Completion-queue polling threads (each with its own queue) that receive and timestamp every
  // message. 0 = half the hardware threads, 1 to 4: one on a 2-core machine, where the server
  // under test may share the cores (docs/live.md measures 1 vs 2 against the twin).
  int poll_threads = 0;
  bool progress = true;
  // The deployment the server runs, as declared by the user (resolved against the catalog), recorded
  // in resolved_config.server_deployment for `servetwin validate --live`. null = not declared.
  nlohmann::json server_deployment;
  // Consecutive UNAVAILABLE results after which the server is considered gone and the run
  // stops (partial). 0 = max(8, 2 x stage concurrency).
  int abort_after_unavailable = 0;
  // Fault handling (docs/live.md, "Faults"). An unavailable server is retried (reconnect, with the
  // users backing off) for this long before the run stops; the count above must also be reached.
  double reconnect_timeout_s = 30;
  // Error-rate breaker: stop when more than this share of the requests that ended in the trailing
  // error_window_s failed (error_rate_breaker.hpp; error_window_s 0 = off).
  double max_error_rate = 0.5;
  double error_window_s = 5;
  // Cancel a request that has had no message for this long, recorded as a timeout of class
  // "stall" (0 = off; the per-request timeout_s still applies).
  double stall_timeout_s = 60;
  // Closed loop: a user refused (overload answer or unreachable server) waits before its next
  // request (sim/workload/client_backoff.hpp); false = send at once, as llm-load-test does.
  bool client_backoff = true;
  ClientBackoffSpec backoff;
};

struct StageWindow {  // NOLINT(bugprone-exception-escape): nlohmann::json moves, as ScenarioResult
  int stage = 0;
  std::string label;        // "concurrency=8" / "rate=2.5"
  nlohmann::json load;      // {"concurrency": 8} or {"rate_per_s": 2.5, "arrival": ...}
  TimeNs start_ns = 0;      // stage start (warmup included)
  TimeNs window_start_ns = 0;
  TimeNs window_end_ns = 0;
  std::int64_t warmup_requests = 0;
  nlohmann::json client_backoff;  // the stage's backoff waits (ClientBackoff::to_json), null = backoff off
};

struct LoadResult {
  bool partial = false;
  std::string partial_reason;
  std::vector<StageWindow> stages;
  std::vector<LiveRecord> records;  // measured requests only
  nlohmann::json summary;           // servetwin summary JSON as written
  std::chrono::steady_clock::time_point t0;
};

// The polling threads a run uses for LoadConfig::poll_threads (0 = automatic).
int resolved_poll_threads(int requested);

class LoadRunner {
 public:
  LoadRunner(LoadConfig cfg, PromptSupply prompts);
  ~LoadRunner();
  LoadRunner(const LoadRunner&) = delete;
  LoadRunner& operator=(const LoadRunner&) = delete;
  // Readiness, all stages, outputs. `stop` (set by a signal handler) ends the run early: stop
  // sending, wait up to timeout_s for in-flight requests, write a partial summary. `cancel_now`
  // (a second signal) cancels what is still in flight at once; the summary is still written.
  LoadResult run(const std::atomic<bool>* stop, const std::atomic<bool>* cancel_now = nullptr);

  struct Impl;

 private:
  Impl* impl_;
};

// The llm-load-test output JSON ({results, config, summary}) for one stage (loadtesters.md §3.2).
nlohmann::json llm_load_test_json(const LoadConfig& cfg, const StageWindow& w, const std::vector<LiveRecord>& records,
                                  std::chrono::system_clock::time_point t0_wall);

}  // namespace servetwin::live
