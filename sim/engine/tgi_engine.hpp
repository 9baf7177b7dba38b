#pragma once
// Hugging Face TGI 1.0.x router + flash shard, per ../shared/reference/tgis_and_tgi_scheduling.md §3:
//  - capacity: a semaphore of max_concurrent_requests (HTTP 429 "Model is overloaded" beyond it);
//    validation rejects input > max_input_length and input + max_new > max_total_tokens (422);
//  - queue and loop: the batch planner tgi_planner.cpp (strict FIFO with head-of-line blocking;
//    budgets summed over 16-token-rounded lengths: prefill ceil16(input) <= max_batch_prefill_tokens;
//    prefill alone when idle; before each decode step, an add-on prefill when the queue holds
//    floor(batch x waiting_served_ratio) requests that fit, or any that fit once max_waiting_tokens
//    decode steps passed since the last prefill; the running batch stalls during the add-on prefill
//    and decodes right after it; no chunked prefill);
//  - memory: the capacity policy guaranteed_no_evict over the reserved-token ledger
//    (router_state.hpp): ceil16(input) + ceil16(max_new), summed over the batch, must fit in
//    max_batch_total_tokens minus what the running batch reserves; each request reserves
//    ceil((input + max_new - 1) / 16) KV blocks from its prefill to its end, no growth, no
//    preemption; max_batch_total_tokens = free KV blocks x 16 after warmup.
#include <functional>
#include <memory>

#include "sim/engine/batch_planner.hpp"
#include "sim/engine/capacity_policy.hpp"
#include "sim/engine/engine_base.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/engine/router_state.hpp"

namespace servetwin {

class TgiEngine final : public EngineBase {
 public:
  TgiEngine(EventQueue& queue, SimListener* listener, CostModel cost, const ModelSpec& model, const GpuSpec& gpu,
            EngineSettings& settings);
  [[nodiscard]] EngineLimits limits() const override;
  [[nodiscard]] std::int64_t max_batch_total_tokens() const { return max_batch_total_tokens_; }

  // Test hook: called with every planned step and the free KV capacity after planning (blocks for
  // vLLM, tokens for TGI), so scheduler tests can compare per-step state tables.
  void observe_steps(std::function<void(const Step&, std::int64_t)> f) { observer_ = std::move(f); }

 protected:
  Admission admit(SimRequest& req) override;
  bool plan_step(TimeNs now, Step& step) override;
  void on_step_done(const Step& step) override;
  void on_cancel(SimRequest& req) override;
  [[nodiscard]] nlohmann::json engine_stats() const override;

 private:
  // Settings.
  std::int64_t max_concurrent_ = 128;
  std::int64_t max_input_length_ = 1024;
  std::int64_t max_total_tokens_ = 2048;
  std::int64_t max_batch_total_tokens_ = 0;

  std::function<void(const Step&, std::int64_t)> observer_;

  // Capacity stage: requests holding a semaphore permit (queued, prefilling or running).
  std::int64_t permits_held_ = 0;
  // Batch stage: the policy objects, the state they read and the one path that changes it.
  std::unique_ptr<CapacityPolicy> capacity_;
  std::unique_ptr<BatchPlanner> planner_;
  RouterState state_;
  RouterCommit commit_{state_};
};

}  // namespace servetwin
