#pragma once
// vLLM engine model, per ../shared/reference/vllm_scheduling.md:
//  - scheduler "v1" (0.8+, §1.3): one token budget (max_num_batched_tokens) per step; RUNNING
//    requests first in admission order (decodes cost 1 token, unfinished prompts get chunks), then
//    WAITING requests FCFS while running < max_num_seqs, with a prefix-cache lookup at first
//    admission, head-of-line blocking on KV allocation failure, no watermark; when a running request
//    cannot get a block, the most recently admitted running request is preempted (recompute) and
//    the waiting loop is skipped for that step;
//  - scheduler "v0" (<= 0.10 without chunked prefill, §1.1): a step that admits prompts is
//    prefill-only (FCFS, stops at first failure; token budget, max_num_seqs, 1 % watermark);
//    otherwise a decode step where each running request needs a slot, preempting the latest
//    arrived running request (recompute) when blocks run out;
//  - scheduler "static": one batch of up to max_num_seqs requests is admitted only when nothing
//    runs, prefilled together in one step and decoded to completion (static batching, as
//    TensorRT-LLM's gptSessionBenchmark and Splitwise's profiles measure);
//  - KV: paged blocks (block_size 16) sized from gpu_memory_utilization as in §3:
//    blocks = (memory x util - weights - activation peak of a max_num_batched_tokens pass -
//    non-torch memory) / block bytes; prefix caching per §4 (sim/engine/prefix_cache.hpp);
//  - CPU: per-step and per-sequence CPU time and CUDA-graph decode come from the preset through the
//    cost model; the API-server costs (BLIS alpha terms, hardware_and_models.md §5.5) are applied
//    per request: `api_ttft_ns` delays the request's entry into the engine queue (HTTP parse,
//    tokenisation, IPC), `api_finish_ns` + `api_token_ns` x output tokens are added to its
//    completion time (detokenisation and streaming of each token, final response).
#include <deque>
#include <functional>
#include <unordered_map>
#include <vector>

#include "sim/engine/engine_base.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/engine/prefix_cache.hpp"

namespace servetwin {

class VllmEngine final : public EngineBase {
 public:
  VllmEngine(EventQueue& queue, SimListener* listener, CostModel cost, const ModelSpec& model, const GpuSpec& gpu,
             EngineSettings& settings);
  [[nodiscard]] EngineLimits limits() const override;
  [[nodiscard]] std::int64_t num_gpu_blocks() const { return pool_.total(); }

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
  // Per-request scheduler state (indexed by SimRequest::engine_slot).
  struct State {
    SimRequest* req = nullptr;
    std::int64_t computed = 0;        // tokens whose KV exists (prefix hits included)
    std::int64_t prefill_target = 0;  // tokens to compute before the next token is emitted
    std::int64_t hit_tokens = 0;      // prefix-cache hit at the latest admission
    bool admitted_once = false;
    std::int64_t committed_blocks = 0;  // guaranteed_no_evict: the full footprint reserved at admission
    BlockPool::Holding blocks;
  };
  State& st(SimRequest* r) { return states_[static_cast<std::size_t>(r->engine_slot)]; }
  [[nodiscard]] std::int64_t blocks_for(std::int64_t tokens) const {
    // A shift for the usual power-of-two block sizes: this runs for every request in every step.
    return block_shift_ >= 0 ? (tokens + block_size_ - 1) >> block_shift_ : (tokens + block_size_ - 1) / block_size_;
  }
  [[nodiscard]] std::int64_t shareable_blocks(const SimRequest& r) const;
  void enqueue(SimRequest* r);
  void preempt(SimRequest* victim);
  // Prefix-cache lookup and allocation for a waiting request's first chunk of `n` tokens; false
  // (nothing taken) when the blocks do not fit with `reserve_blocks` left free.
  bool try_admit(SimRequest* r, std::int64_t budget, std::int64_t reserve_blocks, std::int64_t& n_out);
  void add_item(Step& step, SimRequest* r, std::int64_t n);
  bool plan_v1(Step& step);
  bool plan_v0(Step& step);
  bool plan_static(Step& step);
  void update_ledger();

  // Settings.
  Mode mode_ = Mode::kV1;
  std::int64_t max_num_seqs_ = 256;
  std::int64_t max_num_batched_tokens_ = 2048;
  std::int64_t max_model_len_ = 4096;
  std::int64_t block_size_ = 16;
  int block_shift_ = -1;  // log2(block_size_) when it is a power of two
  bool chunked_prefill_ = true;
  double watermark_ = 0;
  // v0.2.2-0.3.3 V0 prompt batches run padded to the longest prompt: the budget counts
  // n x longest and the padding may not exceed max_paddings (vllm_scheduling.md §1.1 c).
  bool prefill_padding_ = false;
  std::int64_t max_paddings_ = 256;
  // V0 decode slot check: block manager v1 (default until #8704, Oct 2024) or v2 (§1.1 step 3).
  bool v0_block_manager_v2_ = false;
  TimeNs api_ttft_ns_ = 0;
  TimeNs api_finish_ns_ = 0;
  double api_token_ns_ = 0;
  double kv_offload_bytes_ = 0;

  std::function<void(const Step&, std::int64_t)> observer_;

  // State.
  BlockPool pool_;
  std::vector<State> states_;
  std::vector<std::int64_t> free_slots_;
  std::deque<SimRequest*> waiting_;
  std::unordered_map<std::uint64_t, SimRequest*> api_pending_;  // in the API server, not yet queued
  std::vector<SimRequest*> running_;  // admission order
  std::uint64_t preemptions_ = 0, hit_tokens_ = 0, prompt_tokens_ = 0, dropped_ = 0;
  std::int64_t max_waiting_ = 0;
  bool batch_kick_pending_ = false;
  bool no_evict_ = false;                // capacity_policy guaranteed_no_evict (TensorRT-LLM default)
  std::int64_t committed_blocks_ = 0;    // sum of running requests' reserved footprints  // static mode: a batch forms once this instant's arrivals are in
  std::int64_t activation_reserve_bytes_ = 0;
};

}  // namespace servetwin
