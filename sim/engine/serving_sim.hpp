#pragma once
// ServingSim: one simulated inference server (engine scheduler + KV cache + cost model) driven by
// the event core. Used in batch by `predict`/`sweep`/`validate`, and in real time by the twin
// server (live/), which submits requests as they arrive over gRPC and streams tokens back at the
// simulated times.
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/core/event_queue.hpp"
#include "sim/metrics/request_record.hpp"

namespace servetwin {

class Catalog;

// The deployment is valid but cannot run: the model does not fit, or the engine would refuse to
// start. A sweep reports it per configuration instead of failing.
class DoesNotFitError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A request as submitted to the engine.
struct RequestInput {
  std::uint64_t id = 0;
  std::int64_t user_id = -1;
  int stage = 0;
  std::int64_t input_tokens = 0;
  std::int64_t max_new_tokens = 0;
  std::int64_t min_new_tokens = 0;  // the simulator generates exactly output_tokens (see below)
  std::int64_t output_tokens = 0;   // tokens the model will generate before EOS (<= max_new_tokens)
  // Prefix-cache identity: the first `shared_prefix_tokens` of the prompt are identical for all
  // requests with the same prefix_group (>= 0). -1 = nothing shared.
  std::int64_t prefix_group = -1;
  std::int64_t shared_prefix_tokens = 0;
};

// Callbacks from the simulated server. Times are simulated ns.
class SimListener {
 public:
  virtual ~SimListener() = default;
  // A token was emitted (index 0 = first token). Only called when wants_tokens() is true.
  virtual void on_token(std::uint64_t /*request_id*/, std::int64_t /*token_index*/, TimeNs /*t*/) {}
  [[nodiscard]] virtual bool wants_tokens() const { return false; }
  // Final record: finished, rejected (RESOURCE_EXHAUSTED / too long) or cancelled.
  virtual void on_request_done(const RequestRecord& /*record*/) {}
};

// Limits the engine reports (the twin uses them for gRPC validation and ModelInfo).
struct EngineLimits {
  std::int64_t max_sequence_length = 0;
  std::int64_t max_new_tokens = 0;
  std::int64_t max_concurrent_requests = 0;  // beyond this: RESOURCE_EXHAUSTED
};

class ServingSim {
 public:
  virtual ~ServingSim() = default;
  // Schedules the request's arrival at `at_ns` (>= queue.now()).
  virtual void submit(const RequestInput& r, TimeNs at_ns) = 0;
  // Frees a queued or running request (client cancelled). Its record gets status kCancelled.
  virtual void cancel(std::uint64_t request_id) = 0;
  [[nodiscard]] virtual EngineLimits limits() const = 0;
  // Run statistics: memory model, batch sizes, KV use, time breakdown (gemm/attention/comm/overhead).
  [[nodiscard]] virtual nlohmann::json stats() const = 0;
  // Number of requests queued or running.
  [[nodiscard]] virtual std::size_t in_flight() const = 0;
  // Before the first request: the server already computed the first `shared_prefix_tokens` of prefix
  // `prefix_group` for an earlier request, and a prefix cache keeps them (a live server's cache outlives
  // one load stage). Engines without a prefix cache ignore it.
  virtual void prime_prefix_cache(std::int64_t prefix_group, std::int64_t shared_prefix_tokens) {
    (void)prefix_group;
    (void)shared_prefix_tokens;
  }
};

// What the engine layer needs to build a server: catalog names already resolved and validated
// (sim/scenario's resolve_deployment turns a user's DeploymentConfig into this), so the engine layer
// never reaches up into the scenario layer.
struct EngineSetup {
  std::string model;                              // catalog model name
  std::string gpu;                                // catalog GPU name
  std::string interconnect;                       // catalog interconnect name
  int tp = 1;                                     // tensor-parallel degree
  std::string engine_preset;                      // engine preset name (configs/engines)
  std::map<std::string, std::string> engine_set;  // --engine-set K=V overrides
  std::string dtype = "fp16";                     // weights/activations: fp16 | bf16 | fp8
};

// Builds the engine that the preset's `engine:` kind names (sim/engine/engine_registry.hpp) with its
// cost model on `queue`. Throws ConfigError for an invalid setting or an unknown engine kind, and
// DoesNotFitError when the model does not fit in memory.
std::unique_ptr<ServingSim> build_serving_sim(const Catalog& catalog, const EngineSetup& setup, EventQueue& queue,
                                              SimListener* listener);

}  // namespace servetwin
