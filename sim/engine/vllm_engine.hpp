#pragma once
// Engine kind `vllm`: a paged-KV engine, per ../shared/reference/vllm_scheduling.md, composed of
//  - a batch planner chosen by `scheduler` (batch_planner.hpp): "v1" (vLLM 0.8+, §1.3,
//    vllm_v1_planner.cpp), "v0" (<= 0.10 without chunked prefill, §1.1, vllm_v0_planner.cpp) or
//    "static" (one batch run to completion, static_batch_planner.cpp);
//  - a capacity policy (capacity_policy.hpp): `capacity_policy` max_utilization (vLLM: evict and
//    recompute) or guaranteed_no_evict (TensorRT-LLM's default); the static planner always uses
//    static_batch (whole footprint at once). TensorRT-LLM inflight batching is modelled as the v1
//    planner with guaranteed_no_evict (preset vllm-offline-trtllm1);
//  - the scheduler state and its KV contract (paged_state.hpp: planning reads, PagedCommit writes);
//  - KV: paged blocks (block_size 16) sized from gpu_memory_utilization as in §3:
//    blocks = (memory x util - weights - activation peak of a max_num_batched_tokens pass -
//    non-torch memory) / block bytes; prefix caching per §4 (sim/engine/prefix_cache.hpp);
//  - CPU: per-step and per-sequence CPU time and CUDA-graph decode come from the preset through the
//    cost model; the API-server costs (BLIS alpha terms, hardware_and_models.md §5.5) are applied
//    per request: `api_ttft_ns` delays the request's entry into the engine queue (HTTP parse,
//    tokenisation, IPC; plus a per-request share of `api_ttft_spread_ratios` when a probe fit
//    measured one, front_end_spread.hpp), `api_finish_ns` + `api_token_ns` x output tokens are added to its
//    completion time (detokenisation and streaming of each token, final response).
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "sim/engine/batch_planner.hpp"
#include "sim/engine/capacity_policy.hpp"
#include "sim/engine/engine_base.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/engine/front_end_spread.hpp"
#include "sim/engine/paged_state.hpp"

namespace servetwin {

class VllmEngine final : public EngineBase {
 public:
  VllmEngine(EventQueue& queue, SimListener* listener, CostModel cost, const ModelSpec& model, const GpuSpec& gpu,
             EngineSettings& settings);
  [[nodiscard]] EngineLimits limits() const override;
  [[nodiscard]] std::int64_t num_gpu_blocks() const { return state_.total_blocks(); }
  void prime_prefix_cache(std::int64_t prefix_group, std::int64_t shared_prefix_tokens) override {
    commit_.prime_prefix(prefix_group, shared_prefix_tokens);
  }

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
  enum class Mode { kV1, kV0, kStatic };
  // Reads the scheduler settings (limits_, mode_, API costs); returns the KV-sizing inputs.
  struct KvSizing {
    double util = 0.9, reserved = 0, non_torch = 0, blocks_override = 0;
    bool prefix_caching = false;
    bool single_free_queue = false;  // BlockPool::set_single_free_queue
  };
  KvSizing read_settings(const ModelSpec& model, const GpuSpec& gpu, EngineSettings& s);
  // Sizes the paged KV cache from the memory left after weights and activations (§3).
  BlockPool size_kv_cache(const ModelSpec& model, const GpuSpec& gpu, const KvSizing& k);
  void update_ledger();
  // Puts an admitted request in the scheduler's waiting queue, or, under async scheduling while a step
  // runs, holds it until the step after the next one is planned (see vllm_engine.cpp).
  void enqueue_for_scheduler(SimRequest* r);
  // Moves held requests into the waiting queue: those the scheduler can see by now, or all of them.
  void release_async_held(bool all);
  // The API server's delay before `req` reaches the scheduler: api_ttft_ns plus its drawn share of the
  // probed front-end spread (front_end_spread.hpp; 0 extra without the setting).
  [[nodiscard]] TimeNs front_end_delay_ns(const SimRequest& req) const;

  // Settings.
  Mode mode_ = Mode::kV1;
  PagedLimits limits_;
  std::int64_t max_model_len_ = 4096;
  TimeNs api_ttft_ns_ = 0;
  FrontEndSpread front_end_spread_;
  TimeNs api_finish_ns_ = 0;
  double api_token_ns_ = 0;
  double kv_offload_bytes_ = 0;
  std::int64_t activation_reserve_bytes_ = 0;

  std::function<void(const Step&, std::int64_t)> observer_;

  // Scheduling: the policy objects, the state they read and the one path that changes it.
  std::unique_ptr<CapacityPolicy> capacity_;
  std::unique_ptr<BatchPlanner> planner_;
  PagedState state_;
  PagedCommit commit_{state_};
  std::unordered_map<std::uint64_t, SimRequest*> api_pending_;  // in the API server, not yet queued
  // Async scheduling (V1, default from 0.14): requests that reached the engine core while step `tag` ran.
  bool async_scheduling_ = false;
  struct AsyncHeld {
    SimRequest* req;
    std::uint64_t tag;
  };
  std::vector<AsyncHeld> async_held_;
  TimeNs planned_at_ns_ = -1;  // when the running step was planned
};

}  // namespace servetwin
