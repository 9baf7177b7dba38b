#pragma once
// IBM TGIS router + flash/padded shard, per ../shared/reference/tgis_and_tgi_scheduling.md §1:
//  - capacity stage: MAX_CONCURRENT_REQUESTS permits (RESOURCE_EXHAUSTED beyond), length validation
//    and clamping to MAX_SEQUENCE_LENGTH (§1.5);
//  - batch stage: FIFO with bounded skipping (1 s cutoff), MAX_BATCH_SIZE, worst-case memory
//    admission with the future-peak projection (E1 token weights, E2 byte weights from the memory
//    model), the prefill limit scaled by free capacity, padding limit for padded batches (§1.2-1.3);
//  - loop: prefill runs alone while decode stalls; add-on prefill before a decode step when the
//    queue holds min_size requests, min_size falling linearly over MAX_WAITING_TOKENS steps; E2's
//    half-prefill delay; no preemption (§1.4);
//  - flash batches rebuild the contiguous KV cache with torch.cat every decode step (§1.7).
#include <deque>
#include <vector>

#include "sim/engine/engine_base.hpp"
#include "sim/engine/engine_settings.hpp"

namespace servetwin {

class TgisEngine final : public EngineBase {
 public:
  TgisEngine(EventQueue& queue, SimListener* listener, CostModel cost, const ModelSpec& model, const GpuSpec& gpu,
             EngineSettings& settings);
  [[nodiscard]] EngineLimits limits() const override;

 protected:
  Admission admit(SimRequest& req) override;
  bool plan_step(TimeNs now, Step& step) override;
  void on_step_done(const Step& step) override;
  void on_cancel(SimRequest& req) override;
  [[nodiscard]] nlohmann::json engine_stats() const override;

 private:
  enum class Era { kE1, kE2 };
  struct Candidate {
    std::int64_t len = 0;        // current length (input + generated)
    std::int64_t remaining = 0;  // worst-case tokens still to generate (max_new - generated)
  };
  std::vector<SimRequest*> try_next_batch(std::int64_t min_size);
  // Peak batch weight if every request runs to max_new_tokens (granular projection, §1.2).
  [[nodiscard]] double projected_peak_weight(std::vector<Candidate> all) const;
  [[nodiscard]] double current_weight() const;
  [[nodiscard]] double prefill_weight(const std::vector<SimRequest*>& batch) const;
  void build_prefill(const std::vector<SimRequest*>& batch, Step& step) const;
  void build_decode(Step& step) const;

  // Settings.
  Era era_ = Era::kE2;
  bool padded_ = false;
  bool kv_concat_ = true;
  std::int64_t max_batch_size_ = 12;
  std::int64_t max_concurrent_ = 96;
  std::int64_t max_seq_len_ = 2048;
  std::int64_t max_new_tokens_ = 1024;
  std::int64_t max_waiting_tokens_ = 24;
  double weight_limit_ = 0;       // E1: token units; E2: bytes
  double prefill_limit_ = 0;      // E1 only (0 = none)
  double nt_coef_ = 1;            // E2: bytes per token of the running batch
  double pf_coef_ = 1;            // E2: bytes per prompt token at prefill
  double max_prefill_padding_ = 0.2;
  double cutoff_ns_ = 1e9;        // CUTOFF_DURATION

  // State.
  std::deque<SimRequest*> buffer_;
  std::vector<SimRequest*> running_;
  std::int64_t waiting_tokens_ = 0;
  TimeNs last_prefill_end_ns_ = -1;
  TimeNs last_prefill_duration_ns_ = 0;
  bool decode_follows_addon_ = false;
  bool merge_copy_pending_ = false;
  std::uint64_t addon_prefills_ = 0, skipped_candidates_ = 0;
  std::int64_t max_queue_ = 0;
};

}  // namespace servetwin
