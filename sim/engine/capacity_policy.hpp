#pragma once
// Capacity policies of a paged-KV engine: the admission stage, "what fits in memory?" (TensorRT-LLM's
// capacity scheduler policies, ../shared/reference/architecture_models.md §2). A policy answers from
// the read-only PagedState whether a request that holds no reservation may start, and whether a
// started request keeps its whole footprint reserved. Which running request to evict when blocks run
// out is the batch planner's choice (vLLM V0 and V1 pick differently); under a footprint-reserving
// policy that never arises.
#include <cstdint>
#include <memory>
#include <string>

#include "sim/engine/paged_state.hpp"

namespace servetwin {

class CapacityPolicy {
 public:
  virtual ~CapacityPolicy() = default;
  [[nodiscard]] virtual const char* name() const = 0;
  // Whether a request that holds no reservation may start, needing `footprint_blocks` in all
  // (prompt plus maximum output).
  [[nodiscard]] virtual bool may_start(const PagedState& state, std::int64_t footprint_blocks) const = 0;
  // Whether a started request's footprint stays reserved until it ends.
  [[nodiscard]] virtual bool reserves_footprint() const = 0;
};

// "max_utilization": vLLM's admission and TensorRT-LLM's MAX_UTILIZATION: start against the blocks
// needed now (the planner checks those), evict-and-recompute under pressure.
// "guaranteed_no_evict": TensorRT-LLM's default: start only when the footprint fits next to every
// running request's reserved footprint, so nothing is ever evicted.
// "static_batch": TensorRT-LLM's STATIC_BATCH and gptSessionBenchmark: a request starts only with
// its whole footprint free (the static planner allocates it at once).
std::unique_ptr<CapacityPolicy> make_capacity_policy(const std::string& name);

}  // namespace servetwin
