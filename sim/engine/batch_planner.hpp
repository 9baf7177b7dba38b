#pragma once
// Batch planners of a paged-KV engine: the batch stage, "what runs in this iteration?" (TensorRT-LLM's
// micro-batch scheduler, ../shared/reference/architecture_models.md §2). A planner reads the state
// through `const PagedState&` and applies each decision through PagedCommit (the KV contract in
// paged_state.hpp); it fills the step's items and shape, never schedules events or records metrics.
// One planner per file: vllm_v1_planner.cpp, vllm_v0_planner.cpp, static_batch_planner.cpp.
#include <memory>
#include <string>

#include "sim/engine/paged_state.hpp"

namespace servetwin {

class BatchPlanner {
 public:
  virtual ~BatchPlanner() = default;
  [[nodiscard]] virtual const char* name() const = 0;
  // Fills `step` or returns false when nothing can run now.
  virtual bool plan(const PagedState& state, PagedCommit& commit, Step& step) = 0;
};

// vLLM V1 (0.8+): one token budget; running requests first, then waiting FCFS (vllm_scheduling.md §1.3).
std::unique_ptr<BatchPlanner> make_vllm_v1_planner();
// vLLM V0 without chunked prefill: prefill-only admitting steps, else decode (§1.1).
std::unique_ptr<BatchPlanner> make_vllm_v0_planner();
// One batch admitted when nothing runs, prefilled together, decoded to completion.
std::unique_ptr<BatchPlanner> make_static_batch_planner();

}  // namespace servetwin
