#pragma once
// EngineBase: what every engine model shares — the request table, the arrival -> queue ->
// prefill -> decode -> finish lifecycle on the event core, step timing via the cost model,
// records and statistics. A concrete engine implements the two scheduler stages:
//   admit()     capacity stage at arrival: accept into the engine queue, or reject;
//   plan_step() batch stage when the engine is free: choose the next iteration's work (a
//               BatchPlanner over a read-only state, KV changes only through its commit class:
//               the KV contract, sim/engine/kv_view.hpp);
// and commits its bookkeeping in on_step_done(). kv_ only meters use for the summary (kv_ledger.hpp).
// A new engine is one <name>_engine.cpp that registers its kind (engine_registry.hpp) and one preset.
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/cost/cost_model.hpp"
#include "sim/engine/step_time_spread.hpp"
#include "sim/engine/serving_sim.hpp"
#include "sim/kv/kv_ledger.hpp"
#include "sim/kv/memory_model.hpp"

namespace servetwin {

struct SimRequest {
  RequestInput in;
  RequestRecord rec;
  std::int64_t max_new_tokens = 0;    // after the engine's clamping
  std::int64_t target_tokens = 0;     // tokens it will generate: min(output_tokens, max_new_tokens)
  std::int64_t prompt_done = 0;       // prompt tokens whose KV exists (computed or cache hits)
  std::int64_t generated = 0;
  bool cancelled = false;
  bool done = false;
  // Engine-private scratch (e.g. reserved blocks), interpreted by the engine.
  std::int64_t engine_slot = 0;
  [[nodiscard]] std::int64_t context_len() const { return prompt_done + generated; }
  [[nodiscard]] std::int64_t remaining() const { return target_tokens - generated; }
};

// One unit of work in a step for one request.
struct StepItem {
  SimRequest* req = nullptr;
  std::int64_t prefill_tokens = 0;  // prompt tokens computed this step (0 for decode)
  bool emits_token = false;         // the step produces the request's next token
};

struct Step {
  std::vector<StepItem> items;
  StepShape shape;
  StepCost cost;
  TimeNs start_ns = 0, end_ns = 0;
  bool is_prefill_only = false;
};

class EngineBase : public ServingSim {
 public:
  EngineBase(EventQueue& queue, SimListener* listener, CostModel cost, std::string engine_name);
  ~EngineBase() override = default;

  void submit(const RequestInput& r, TimeNs at_ns) final;
  void cancel(std::uint64_t request_id) final;
  [[nodiscard]] nlohmann::json stats() const override;
  [[nodiscard]] std::size_t in_flight() const final { return in_flight_; }
  [[nodiscard]] const CostModel& cost_model() const { return cost_; }
  // Called at the start of every step with the planned step (tests, step traces).
  void set_step_observer(std::function<void(const Step&)> f) { step_observer_ = std::move(f); }
  // The engine settings after defaults and overrides (set by the factory), reported in stats().
  void set_resolved_settings(nlohmann::json j) { resolved_settings_ = std::move(j); }
  // Each step's time is the cost model's times a ratio of this spread (set by the factory from the engine
  // setting step_time_ratios; none by default: sim/engine/step_time_spread.hpp).
  void set_step_time_spread(StepTimeSpread spread) { step_time_spread_ = std::move(spread); }

 protected:
  struct Admission {
    bool accepted = true;
    RequestStatus status = RequestStatus::kRejected;
    std::string error;  // e.g. "RESOURCE_EXHAUSTED: Model is overloaded"
  };
  // Capacity stage. May clamp req.max_new_tokens. Accepted requests are then owned by the engine
  // (put them in its queue).
  virtual Admission admit(SimRequest& req) = 0;
  // Batch stage: fill `step.items` (and `step.shape`) or return false when there is nothing to run.
  virtual bool plan_step(TimeNs now, Step& step) = 0;
  // Bookkeeping after the step's tokens were applied; finished requests have done == true and are
  // released by the base after this call.
  virtual void on_step_done(const Step& step) = 0;
  // Removes a cancelled request from engine structures.
  virtual void on_cancel(SimRequest& req) = 0;
  // Engine-specific stats merged into stats().
  [[nodiscard]] virtual nlohmann::json engine_stats() const = 0;

  // For engines: kick the step loop (e.g. after an admission changed what can run).
  void maybe_start_step();
  [[nodiscard]] TimeNs now() const { return queue_.now(); }
  // Whether a step is executing now, and how many steps have started so far (the running one included).
  [[nodiscard]] bool step_running() const { return busy_; }
  [[nodiscard]] std::uint64_t steps_started() const { return steps_started_; }
  void finish_request(SimRequest& req, RequestStatus status, const std::string& error = "");

  EventQueue& queue_;
  SimListener* listener_;
  CostModel cost_;
  std::string engine_name_;
  KvLedger kv_;
  MemoryBudget memory_;
  nlohmann::json resolved_settings_;
  std::function<void(const Step&)> step_observer_;

 private:
  void on_arrival(std::unique_ptr<SimRequest> req);
  void on_step_end();
  void release(SimRequest& req);

  std::unordered_map<std::uint64_t, std::unique_ptr<SimRequest>> live_;  // lookup only, never iterated
  std::size_t in_flight_ = 0;
  bool busy_ = false;
  std::uint64_t steps_started_ = 0;
  StepTimeSpread step_time_spread_;
  Step current_;
  // Statistics.
  std::uint64_t steps_ = 0, prefill_steps_ = 0, mixed_steps_ = 0, decode_steps_ = 0;
  double batch_time_area_ = 0;   // sum(batch size * step duration)
  double busy_ns_ = 0;
  std::int64_t max_batch_ = 0;
  StepCost total_cost_;
  std::uint64_t rejected_ = 0, finished_ = 0;
};

}  // namespace servetwin
