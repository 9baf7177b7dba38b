#pragma once
// The seam between the load runner's core (users, arrivals, timing, records, summaries, SIGINT)
// and one wire protocol. The core knows no protocol: it asks a Transport to send a request, and
// the transport reports what the server said through the request's InFlight object (messages with
// a token count, then exactly one end). Each protocol is one file implementing Transport
// (tgis_transport.cpp, caikit_transport.cpp, openai_transport.cpp).
//
// Threads: a transport receives on its own polling threads (`poll_threads`), timestamps each
// message with RequestHost::now_ns() as it is received, before any parsing, and calls the
// InFlight methods there. Records are written by the core's control thread, never by these.
#include <atomic>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sim/workload/dataset.hpp"
#include "sim/metrics/request_record.hpp"

namespace servetwin::live {

struct LoadConfig;

// One request as the runner saw it. Times are ns since the run's t0 (steady_clock).
struct LiveRecord {
  RequestRecord rec;
  std::string input_id;
  bool warmup = false;
  int status_code = 0;          // the protocol's numeric status: gRPC status code, HTTP status (0 = none)
  std::string status_message;   // the protocol's status text
  std::string status_name;      // what the summary's status counts key on ("OK", "RESOURCE_EXHAUSTED", "429")
  std::string token_count_method;  // OpenAI: "usage" or "chunks" (gRPC: the server's cumulative count, "")
  // The prompt's length as asked for (the drawn synthetic length, or the dataset's count), and for a
  // synthetic prompt the pieces sent (-1: a dataset's text). rec.input_tokens is the server's count.
  std::int64_t requested_input_tokens = 0;
  std::int64_t prompt_pieces = -1;
  std::vector<std::pair<TimeNs, std::int64_t>> messages;  // arrival time, cumulative generated tokens
};

// What one stream message says, independent of protocol.
struct MsgInfo {
  bool carries_output = false;
  std::int64_t cumulative_tokens = 0;
  std::int64_t input_tokens = 0;  // 0 = not reported in this message
  std::string stop_reason;        // non-empty = the final message (it carries the reason)
};

// How a request ended, as the transport saw it. `ok`: the exchange completed without a transport
// or server error (the core still checks that a final message arrived).
struct CallOutcome {
  bool ok = true;
  RequestStatus failure = RequestStatus::kError;  // when !ok
  std::string error;        // the record's error text when !ok
  int code = 0;             // LiveRecord::status_code
  std::string code_name;    // LiveRecord::status_name
  std::string message;      // LiveRecord::status_message
  bool server_unavailable = false;  // counts toward LoadConfig::abort_after_unavailable
  // The server refused the load (gRPC RESOURCE_EXHAUSTED, HTTP 429/503): the user backs off.
  bool overload = false;
  double retry_after_s = -1;  // the server's Retry-After in seconds (-1 = none or not a number)
  std::string token_count_method;
};

class InFlight;

// The server's own token count of some texts (its tokenizer, the tokens it adds included).
struct ServerTokenCounts {
  std::string call;                  // what was asked, e.g. "POST /tokenize"; "" = nothing
  std::vector<std::int64_t> counts;  // one per text when the server counted them
  std::string error;                 // why not (no such call, HTTP 404, UNIMPLEMENTED, ...); "" = counted
};

// What a transport sees of the runner core.
class RequestHost {
 public:
  virtual ~RequestHost() = default;
  [[nodiscard]] virtual TimeNs now_ns() const = 0;
  // Every InFlight object's life (the core waits for zero before it stops the transport).
  virtual void object_created() = 0;
  virtual void object_destroyed() = 0;
  // Called by the transport before the request's first I/O, so a cancel can reach it.
  virtual void register_live(InFlight* call) = 0;
  // The request ended: its record, and how it ended. Called once, from on_done.
  virtual void complete(InFlight* call, LiveRecord rec, const CallOutcome& outcome) = 0;
};

// One request in flight. Reference-counted: the transport's I/O holds one reference until the
// request's end is handled; the core takes a temporary one while cancelling, so a cancel never
// races a delete. Transports derive from it and implement abort_io().
class InFlight {
 public:
  InFlight(RequestHost* host, LiveRecord rec, std::int64_t user_slot);
  virtual ~InFlight() = default;
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref();
  // From the core's control thread: stop this request (the transport then ends it; the record is
  // `unfinished` with the reason).
  void cancel(const std::string& why);
  [[nodiscard]] std::int64_t user_slot() const { return user_slot_; }
  // When the request was sent or last received a message (stall detection, LoadConfig::stall_timeout_s).
  [[nodiscard]] TimeNs last_activity_ns() const { return last_activity_ns_.load(std::memory_order_relaxed); }

  // --- For the transport, on its polling threads.
  // One stream message received at `t`. Returns false when the stream must stop (protocol
  // violation: the transport aborts the exchange and then reports its end).
  bool on_message(TimeNs t, const MsgInfo& m);
  // The single answer of a non-streaming request: ack = first token = end.
  void on_single_response(TimeNs t, const MsgInfo& m);
  void set_protocol_error(const std::string& what);
  [[nodiscard]] std::string cancel_reason();
  // The request ended (exactly once); hands the record to the core.
  void on_done(const CallOutcome& outcome);

  // Read by the core in complete() (after on_done, no other thread touches them).
  struct EndState {
    std::string protocol_error;
    std::string cancel_reason;
    bool final_seen = false;
    TimeNs final_ns = -1;
    std::int64_t last_cum = 0;
  };
  EndState end_state();

 protected:
  // Stops the exchange (cancel the RPC, close the socket); the transport reports on_done later.
  virtual void abort_io() = 0;
  RequestHost* host_;

 private:
  std::mutex mu_;  // guards the fields below against cancel() from the control thread
  LiveRecord rec_;
  std::int64_t user_slot_;
  EndState end_;
  std::atomic<int> refs_{1};
  std::atomic<TimeNs> last_activity_ns_;
};

// The target answers, but not the protocol asked for (e.g. `--protocol caikit` against a TGIS
// server: UNIMPLEMENTED). Bad input, not a fault of the server: `load` exits 2 before any load.
class ProtocolMismatchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One wire protocol.
class Transport {
 public:
  virtual ~Transport() = default;
  // Polls the server until it is ready or LoadConfig::ready_timeout_s passes; throws
  // std::runtime_error naming the target, the check and the last answer, or ProtocolMismatchError
  // at once when the server answers that it does not implement the protocol's service. Returns what
  // the server said (recorded in resolved_config.readiness).
  virtual nlohmann::json wait_until_ready() = 0;
  // Connections and `poll_threads` polling threads.
  virtual void start(int poll_threads) = 0;
  // Sends one request: creates its InFlight (with `rec`, for `user_slot`), registers it with the
  // host, starts the exchange. Called from the control thread.
  virtual void send(LiveRecord rec, std::int64_t user_slot, const PromptSample& entry) = 0;
  // After every InFlight object is gone: stops the polling threads.
  virtual void stop() = 0;
  // The summary's per-stage status count key ("grpc_status_counts", "http_status_counts").
  [[nodiscard]] virtual const char* status_counts_key() const = 0;
  // Whether the connections use TLS (gRPC: --tls; OpenAI: an https:// target).
  [[nodiscard]] virtual bool uses_tls() const = 0;
  // What this protocol adds to the summary's resolved_config (under its name); null = nothing.
  [[nodiscard]] virtual nlohmann::json resolved_config_extra() const { return nullptr; }
  // The server's token count of each text through the protocol's tokenizer call, for synthetic
  // prompts (prompt_tokens.hpp). Called from the control thread after wait_until_ready(), before
  // start(); a few short requests that generate nothing. Never throws.
  virtual ServerTokenCounts count_tokens(const std::vector<std::string>& texts);
};

// The transport for cfg.protocol. `host` outlives it.
std::unique_ptr<Transport> make_transport(const LoadConfig& cfg, RequestHost& host);
std::unique_ptr<Transport> make_tgis_transport(const LoadConfig& cfg, RequestHost& host);
std::unique_ptr<Transport> make_caikit_transport(const LoadConfig& cfg, RequestHost& host);
std::unique_ptr<Transport> make_openai_transport(const LoadConfig& cfg, RequestHost& host);

// Readiness, for every transport: calls `attempt(limit, last)` every 250 ms until it returns an
// answer (not null) or cfg.ready_timeout_s passes; an attempt may take `limit` (what is left, at
// least 200 ms, at most 2 s) and describes a failure in `last`. The answer gets `attempts`. Throws
// std::runtime_error naming `what`, the target, the attempts and the last result.
nlohmann::json retry_until_ready(
    const LoadConfig& cfg, const std::string& what,
    const std::function<nlohmann::json(std::chrono::steady_clock::duration limit, std::string& last)>& attempt);

// llm-load-test's plugin name for a protocol (also used without a transport, e.g. in tests).
const char* llm_load_test_plugin_name(const LoadConfig& cfg);

}  // namespace servetwin::live
