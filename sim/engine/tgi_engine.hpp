#pragma once
// Hugging Face TGI 1.0.x router + flash shard, per ../shared/reference/tgis_and_tgi_scheduling.md §3:
//  - capacity: a semaphore of max_concurrent_requests (HTTP 429 "Model is overloaded" beyond it);
//    validation rejects input > max_input_length and input + max_new > max_total_tokens (422);
//  - queue: strict FIFO with head-of-line blocking; budgets summed over 16-token-rounded lengths
//    (prefill: ceil16(input) <= max_batch_prefill_tokens; total: ceil16(input) + ceil16(max_new)
//    <= max_batch_total_tokens minus what the running batch reserves);
//  - reservation: each request holds ceil((input + max_new - 1) / 16) KV blocks from its prefill to
//    its end, no growth, no preemption; max_batch_total_tokens = free KV blocks x 16 after warmup;
//  - loop: prefill alone when idle; before each decode step, an add-on prefill when the queue
//    holds floor(batch x waiting_served_ratio) requests that fit, or any that fit once
//    max_waiting_tokens decode steps passed since the last prefill; the running batch stalls
//    during the add-on prefill and decodes right after it; no chunked prefill.
#include <deque>
#include <functional>
#include <vector>

#include "sim/engine/engine_base.hpp"
#include "sim/engine/engine_settings.hpp"

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
  [[nodiscard]] static std::int64_t ceil16(std::int64_t n) { return (n + 15) / 16 * 16; }
  [[nodiscard]] static std::int64_t reserved_tokens(const SimRequest& r) {
    return ceil16(r.in.input_tokens + r.max_new_tokens - 1);
  }
  // Queue::next_batch: FIFO prefix that fits; empty when fewer than min_size (0 = no minimum).
  bool plan(TimeNs now, Step& step);
  std::vector<SimRequest*> next_batch(std::int64_t min_size, std::int64_t token_budget);
  void build_prefill(const std::vector<SimRequest*>& batch, Step& step) const;
  void build_decode(Step& step) const;
  [[nodiscard]] std::int64_t running_reserved() const;

  // Settings.
  std::int64_t max_concurrent_ = 128;
  std::int64_t max_input_length_ = 1024;
  std::int64_t max_total_tokens_ = 2048;
  std::int64_t max_batch_prefill_tokens_ = 4096;
  std::int64_t max_batch_total_tokens_ = 0;
  std::int64_t max_waiting_tokens_ = 20;
  double waiting_served_ratio_ = 1.2;

  std::function<void(const Step&, std::int64_t)> observer_;

  // State.
  std::deque<SimRequest*> queue_entries_;
  std::vector<SimRequest*> running_;
  std::int64_t waiting_tokens_ = 0;
  std::int64_t permits_held_ = 0;  // requests holding a semaphore permit (queued, prefilling or running)
  bool decode_follows_addon_ = false;
  std::uint64_t addon_prefills_ = 0;
  std::int64_t max_queue_ = 0;
};

}  // namespace servetwin
