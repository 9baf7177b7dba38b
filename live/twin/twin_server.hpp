#pragma once
// The twin: a real server (TGIS or Caikit gRPC plus grpc.health.v1, or the OpenAI HTTP API)
// whose "model" is servetwin's simulated engine running in real time. Requests enter the ServingSim at the
// simulated time equal to the wall time elapsed since start; one driver thread sleeps until the
// next event's wall time and runs the event queue up to "now"; tokens go out as stream messages
// at their simulated times, in the exact message sequence of the real server.
//
// The engine side is protocol-neutral (twin_engine.hpp); each protocol is one adapter file
// (tgis_adapter.cpp, caikit_adapter.cpp, openai_adapter.cpp). Prometheus /metrics with vLLM's
// metric names is served by the OpenAI front end, and by a side HTTP port for the gRPC ones.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "live/common/util.hpp"
#include "sim/core/event_queue.hpp"
#include "sim/engine/serving_sim.hpp"

namespace servetwin::live {

using SimFactory = std::function<std::unique_ptr<ServingSim>(EventQueue& queue, SimListener* listener)>;

// Which wire protocol the twin speaks: gRPC (TGIS or Caikit, per TwinOptions::protocol) or the
// OpenAI HTTP API (/v1/completions, /v1/chat/completions, /v1/models, /health, /metrics).
enum class TwinFrontEnd { kGrpc, kOpenai };

// The listen address is held by another socket (exit code 2 in `serve`).
class PortInUseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct TwinOptions {
  TwinFrontEnd front_end = TwinFrontEnd::kGrpc;
  Protocol protocol = Protocol::kTgis;  // gRPC front end only
  std::string listen = "127.0.0.1:0";  // loopback only; port 0 = pick a free one
  std::string model_name = "servetwin-model";
  std::uint64_t seed = 0;
  // max_new_tokens when a request sends 0 (original TGIS documents 20).
  std::int64_t default_max_new_tokens = 20;
  // Keep the steady_clock time each request's first token was handed to gRPC, keyed by the
  // client's `x-request-id` metadata (for measuring the runner's timestamp overhead).
  bool log_emissions = false;
  // gRPC front end: also serve /metrics and /health over HTTP here (loopback HOST:PORT; empty = no).
  std::string metrics_listen;
  // Share the port with other sockets that also ask (SO_REUSEPORT). Off: a port in use is an error.
  bool reuse_port = false;
  // Threads running the OpenAI / metrics HTTP server.
  int http_threads = 2;
};

// With log_emissions: what the twin sent for one finished request and when (steady_clock ns, same
// host as the client): the request's receipt by the adapter, the hand-off of its first and last
// tokens to the protocol adapter, and the number of tokens. The twin's own TTFT (first - received)
// and ITL ((last - first) / (tokens - 1)), to compare a client's measurement with.
struct TwinSentRecord {
  std::string x_request_id;
  std::int64_t received_ns = -1, first_token_sent_ns = -1, last_token_sent_ns = -1;
  std::int64_t tokens = 0;
  // Where the first token's time went inside the twin (a latency breakdown for the bench): when
  // the engine's clock made it due, and when the flush of its pass began and returned for this
  // request (the write, for an adapter that holds a pass's output to the flush, as the OpenAI one
  // does; nothing for the gRPC adapters, which write in on_token).
  std::int64_t first_token_due_ns = -1, first_flush_begin_ns = -1, first_flush_end_ns = -1;
};

struct TwinStats {
  std::int64_t accepted = 0, rejected = 0, invalid = 0, completed = 0, cancelled = 0, messages = 0;
};

class TwinServer {
 public:
  TwinServer(TwinOptions opts, SimFactory factory);
  ~TwinServer();
  TwinServer(const TwinServer&) = delete;
  TwinServer& operator=(const TwinServer&) = delete;

  // Builds the engine, binds, starts the driver. Returns the bound port. Throws on failure
  // (PortInUseError when the address is taken and reuse_port is off).
  int start();
  // The bound metrics port of the gRPC front end (0 when none).
  [[nodiscard]] int metrics_port() const;
  // Stops accepting, cancels what is in flight (after `grace_ms`), stops the driver. Idempotent.
  void shutdown(int grace_ms = 0);
  // Blocks until shutdown() was called (from another thread or a signal watcher).
  void wait();

  [[nodiscard]] EngineLimits limits() const;
  [[nodiscard]] TwinStats stats() const;
  // With log_emissions, x-request-id -> steady_clock ns: when the engine emitted the first token,
  // and when the message carrying it was handed to gRPC (after the ack's write completed).
  [[nodiscard]] std::map<std::string, std::int64_t> first_token_emissions() const;
  [[nodiscard]] std::map<std::string, std::int64_t> first_token_handoffs() const;
  [[nodiscard]] std::int64_t steady_origin_ns() const;
  // With log_emissions: x-request-id -> (simulated submit time, simulated finish time), ns. The
  // engine's view of a run, to replay it in a batch simulation with the same arrival timing.
  [[nodiscard]] std::map<std::string, std::pair<TimeNs, TimeNs>> request_times() const;  // steady_clock ns at simulated time 0
  // With log_emissions: x-request-ids in the order the engine took them. Requests taken in one
  // wake-up share a submit time; this order (not the id) decides which joins a batch first.
  [[nodiscard]] std::vector<std::string> submit_order() const;
  // With log_emissions: one record per request that finished ok (TwinSentRecord).
  [[nodiscard]] std::vector<TwinSentRecord> sent_log() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Output length the twin generates for a request (documented in docs/live.md): max_new_tokens
// when min == max; otherwise a draw, uniform in [max(min,1), max], from a stream seeded by the
// twin's seed and a hash of the prompt text, so the same request always gets the same length.
std::int64_t twin_output_tokens(std::uint64_t seed, const std::string& text, std::int64_t min_new,
                                std::int64_t max_new);

}  // namespace servetwin::live
