#pragma once
// Capacity policies: the admission stage, "what fits in memory?" (TensorRT-LLM's capacity scheduler
// policies, ../shared/reference/architecture_models.md §2). A policy answers from the read-only
// KvView (kv_view.hpp: the KV contract) whether new work may start, and whether a started request
// keeps its whole footprint reserved. Which running request to evict when memory runs out is the
// batch planner's choice (vLLM V0 and V1 pick differently); under a no-evict policy that never arises.
#include <memory>
#include <string>

#include "sim/engine/kv_view.hpp"

namespace servetwin {

class CapacityPolicy {
 public:
  CapacityPolicy() = default;
  CapacityPolicy(const CapacityPolicy&) = delete;
  CapacityPolicy& operator=(const CapacityPolicy&) = delete;
  CapacityPolicy(CapacityPolicy&&) = delete;
  CapacityPolicy& operator=(CapacityPolicy&&) = delete;
  virtual ~CapacityPolicy() = default;
  [[nodiscard]] virtual const char* name() const = 0;
  // Whether new work may start. `demand` is in the view's unit and is what the policy's rule
  // measures: the new work's whole footprint, prompt plus maximum output, for max_utilization,
  // guaranteed_no_evict and static_batch (on top of what the view already counts as committed);
  // the projected peak of the whole batch with the new work in it for projected_peak.
  [[nodiscard]] virtual bool may_start(const KvView& view, double demand) const = 0;
  // Whether a started request's footprint stays reserved until it ends.
  [[nodiscard]] virtual bool reserves_footprint() const = 0;
};

// "max_utilization": vLLM's admission and TensorRT-LLM's MAX_UTILIZATION: start against the blocks
// needed now (the planner checks those), evict-and-recompute under pressure.
// "guaranteed_no_evict": TensorRT-LLM's default, and TGI's router (its footprints are 16-token
// rounded prompt + maximum output, summed over the batch being formed): start only when the
// footprint fits next to every running request's reserved footprint, so nothing is ever evicted.
// "static_batch": TensorRT-LLM's STATIC_BATCH and gptSessionBenchmark: a request starts only with
// its whole footprint free (the static planner allocates it at once).
// "projected_peak": IBM TGIS: the batch's peak weight, if every request ran to its maximum output,
// stays within the weight limit (kv_total), so nothing is ever evicted; nothing is reserved.
std::unique_ptr<CapacityPolicy> make_capacity_policy(const std::string& name);

}  // namespace servetwin
