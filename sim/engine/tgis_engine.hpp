#pragma once
// IBM TGIS router + flash/padded shard, per ../shared/reference/tgis_and_tgi_scheduling.md §1:
//  - capacity stage: MAX_CONCURRENT_REQUESTS permits (RESOURCE_EXHAUSTED beyond), length validation
//    and clamping to MAX_SEQUENCE_LENGTH (§1.5);
//  - batch stage, the batch planner tgis_planner.cpp over RouterState (router_state.hpp): FIFO with
//    bounded skipping (1 s cutoff), MAX_BATCH_SIZE, the prefill limit scaled by free capacity,
//    padding limit for padded batches (§1.2-1.3); prefill runs alone while decode stalls; add-on
//    prefill before a decode step when the queue holds min_size requests, min_size falling linearly
//    over MAX_WAITING_TOKENS steps; E2's half-prefill delay; no preemption (§1.4); flash batches
//    rebuild the contiguous KV cache with torch.cat every decode step (§1.7);
//  - memory: the capacity policy projected_peak: worst-case admission with the future-peak
//    projection of the batch weight (E1 token weights, E2 byte weights from the memory model,
//    TgisWeights in tgis_planner.hpp) within the weight limit; nothing is reserved.
#include <memory>

#include "sim/engine/batch_planner.hpp"
#include "sim/engine/capacity_policy.hpp"
#include "sim/engine/engine_base.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/engine/router_state.hpp"
#include "sim/engine/tgis_planner.hpp"

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
  // Settings.
  TgisRules rules_;
  std::int64_t max_concurrent_ = 96;
  std::int64_t max_seq_len_ = 2048;
  std::int64_t max_new_tokens_ = 1024;

  // Batch stage: the policy objects, the state they read and the one path that changes it.
  std::unique_ptr<CapacityPolicy> capacity_;
  std::unique_ptr<BatchPlanner> planner_;
  RouterState state_;
  RouterCommit commit_{state_};
};

}  // namespace servetwin
