#pragma once
// The twin's protocol-neutral front end: servetwin's simulated engine running in real time, with
// its own status type and a per-request sink interface. Protocol adapters (TGIS and Caikit gRPC,
// OpenAI HTTP) validate their wire request, fill a TwinRequest and hand it to the engine; tokens,
// the end and failures come back through the TwinRequest's virtual calls.
//
// Threading: adapters' threads never touch the simulator. They post commands (submit, cancel,
// metrics snapshot) to the driver's inbox; the driver thread alone owns the EventQueue and
// ServingSim and calls the sinks, which must not call back into the driver synchronously while
// it holds a lock (cancel() only posts, so it is safe from any thread).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "live/twin/twin_metrics.hpp"
#include "live/twin/twin_server.hpp"

namespace servetwin::live {

// Why a request was not served. Adapters map these to their protocol (gRPC status codes, HTTP
// status and OpenAI error types).
enum class TwinCode { kOk, kInvalidArgument, kNotFound, kResourceExhausted, kCancelled, kUnavailable, kInternal };

struct TwinStatus {
  TwinCode code = TwinCode::kOk;
  std::string message;
  [[nodiscard]] bool ok() const { return code == TwinCode::kOk; }
};

// Why generation stopped (each protocol has its own names and numbers for these).
enum class TwinStop { kMaxTokens, kEosToken, kTokenLimit };

// One request as the engine sees it, and the sink its protocol adapter implements.
class TwinRequest {
 public:
  virtual ~TwinRequest() = default;
  virtual void on_token(std::int64_t index) = 0;       // driver thread; index < output_tokens
  virtual void on_done(std::int64_t tokens_sent) = 0;  // driver thread; final, engine finished ok
  virtual void on_fail(const TwinStatus& s) = 0;       // any thread; final
  // Driver thread, at the end of each pass of the engine's clock in which on_token was called: an
  // adapter may hold a pass's output and write it here, in one piece (a request's last token and
  // its end, which come in the same pass, go out together).
  virtual void flush() {}

  // Filled by TwinEngine::admit.
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;  // tokens the engine will generate
  std::int64_t max_new_tokens = 0;
  TwinStop stop = TwinStop::kMaxTokens;  // reason when all output_tokens were sent
  std::string prompt;
  // Set by the adapter.
  std::string x_request_id;
  // With log_emissions: steady_clock ns when the engine took the request (TwinEngine::submit),
  // and when the flush of the pass with its first token began and returned (TwinSentRecord).
  std::int64_t received_steady_ns = -1;
  std::int64_t first_flush_begin_steady_ns = -1, first_flush_end_steady_ns = -1;
};

// What the adapter read from its wire request.
struct AdmitParams {
  std::string text;
  std::int64_t max_new_tokens = 0;  // 0 = the twin's default
  std::int64_t min_new_tokens = 0;
  std::int64_t truncate_input_tokens = 0;  // 0 = no truncation
  std::int64_t input_tokens = -1;          // > 0: counted by the adapter (token-id prompts)
};

class TwinEngine {
 public:
  TwinEngine(const TwinOptions& opts, SimFactory factory);
  ~TwinEngine();
  TwinEngine(const TwinEngine&) = delete;
  TwinEngine& operator=(const TwinEngine&) = delete;

  void start();  // builds the simulator, starts the driver; t = 0 is now
  void stop();   // stops the driver (idempotent); sinks still in flight get no more calls

  // Validates lengths and fills the request's; a non-OK status is the answer to send instead.
  TwinStatus admit(TwinRequest& r, const AdmitParams& p) const;
  // Admitted requests go to the engine; refused ones are counted and failed with `s`.
  void submit(const std::shared_ptr<TwinRequest>& r);
  void refuse(TwinRequest& r, const TwinStatus& s);
  void cancel(TwinRequest* r);  // client went away; any thread
  void count_invalid();          // a request refused before a TwinRequest existed (bad body)
  // Requests the engine holds (queued or running); any thread.
  [[nodiscard]] std::int64_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

  // Prometheus text of the vLLM-named metrics (rendered by the driver; empty once stopped).
  std::string metrics_text();

  [[nodiscard]] const TwinOptions& options() const { return opts_; }
  [[nodiscard]] EngineLimits limits() const { return lim_; }
  [[nodiscard]] TwinStats stats() const;
  void count_message() { messages_sent_.fetch_add(1, std::memory_order_relaxed); }
  void log_first_token_handoff(const TwinRequest& r);
  [[nodiscard]] std::map<std::string, std::int64_t> first_token_emissions() const;
  [[nodiscard]] std::map<std::string, std::int64_t> first_token_handoffs() const;
  [[nodiscard]] std::map<std::string, std::pair<TimeNs, TimeNs>> request_times() const;
  [[nodiscard]] std::vector<std::string> submit_order() const;
  [[nodiscard]] std::int64_t steady_origin_ns() const;
  [[nodiscard]] std::vector<TwinSentRecord> sent_log() const;

 private:
  struct Listener;
  struct Cmd;
  struct Active;
  void post(Cmd c);
  void run_driver();
  void on_token(std::uint64_t id, std::int64_t index, TimeNs t);
  void on_request_done(const RequestRecord& rec);
  // Driver thread, at the end of a pass: each touched request writes what it held (flush), timed
  // around its first write with log_emissions.
  void flush_touched();
  void count(std::int64_t TwinStats::*field, std::int64_t n = 1);
  [[nodiscard]] TimeNs wall_ns() const;
  [[nodiscard]] TwinGauges gauges() const;  // driver thread

  TwinOptions opts_;
  SimFactory factory_;
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<EventQueue> queue_;
  std::unique_ptr<ServingSim> sim_;
  EngineLimits lim_;
  std::chrono::steady_clock::time_point t0_;
  std::thread driver_;
  KvCapacity kv_capacity_;
  TwinMetrics metrics_;  // driver thread only

  std::mutex inbox_mu_;
  std::condition_variable inbox_cv_;
  std::vector<Cmd> inbox_;
  bool stop_ = false;

  // Driver-thread state.
  std::unordered_map<std::uint64_t, Active> active_;
  std::unordered_map<TwinRequest*, std::uint64_t> id_of_;
  std::uint64_t next_id_ = 1;
  std::vector<std::shared_ptr<TwinRequest>> touched_;  // got on_token this pass (flushed at its end)

  mutable std::mutex stats_mu_;
  TwinStats st_;
  std::atomic<std::int64_t> messages_sent_{0};
  std::atomic<std::int64_t> in_flight_{0};
  std::map<std::string, std::int64_t> emissions_;
  std::map<std::string, std::int64_t> handoffs_;
  std::map<std::string, std::pair<TimeNs, TimeNs>> times_;
  std::vector<std::string> submit_order_;
  std::vector<TwinSentRecord> sent_;
};

}  // namespace servetwin::live
