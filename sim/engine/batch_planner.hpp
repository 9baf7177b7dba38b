#pragma once
// Batch planners: the batch stage, "what runs in this iteration?" (TensorRT-LLM's micro-batch
// scheduler, ../shared/reference/architecture_models.md §2). One interface for every engine built
// from a planner and a capacity policy. A planner reads its engine's scheduler state read-only and
// applies each decision through that state's commit class (the KV contract, kv_view.hpp); it fills
// the step's items and shape, never schedules events or records metrics.
// A planner is written for one state class: derive from PlannerFor<State, Commit> and implement
// plan_on(); plan() hands it the engine's state and commit as those types (a mismatch is a
// programming error and throws std::bad_cast).
// One planner per file: vllm_v1_planner.cpp, vllm_v0_planner.cpp, static_batch_planner.cpp
// (PagedState), tgi_planner.cpp, tgis_planner.cpp (RouterState, on the shared loop of router_loop.hpp);
// SGLang's sits in sglang_engine.cpp.
#include <memory>
#include <string>

#include "sim/engine/engine_base.hpp"
#include "sim/engine/kv_view.hpp"

namespace servetwin {

class BatchPlanner {
 public:
  BatchPlanner() = default;
  BatchPlanner(const BatchPlanner&) = delete;
  BatchPlanner& operator=(const BatchPlanner&) = delete;
  BatchPlanner(BatchPlanner&&) = delete;
  BatchPlanner& operator=(BatchPlanner&&) = delete;
  virtual ~BatchPlanner() = default;
  [[nodiscard]] virtual const char* name() const = 0;
  // Fills `step` or returns false when nothing can run now.
  virtual bool plan(const KvView& state, KvCommit& commit, Step& step) = 0;
};

template <class State, class Commit>
class PlannerFor : public BatchPlanner {
 public:
  bool plan(const KvView& state, KvCommit& commit, Step& step) final {
    return plan_on(dynamic_cast<const State&>(state), dynamic_cast<Commit&>(commit), step);
  }

 protected:
  virtual bool plan_on(const State& state, Commit& commit, Step& step) = 0;
};

class PagedState;
class PagedCommit;
class RouterState;
class RouterCommit;
using PagedPlanner = PlannerFor<PagedState, PagedCommit>;
using RouterPlanner = PlannerFor<RouterState, RouterCommit>;

// vLLM V1 (0.8+): one token budget; running requests first, then waiting FCFS (vllm_scheduling.md §1.3).
std::unique_ptr<BatchPlanner> make_vllm_v1_planner();
// vLLM V0 without chunked prefill: prefill-only admitting steps, else decode (§1.1).
std::unique_ptr<BatchPlanner> make_vllm_v0_planner();
// One batch admitted when nothing runs, prefilled together, decoded to completion.
std::unique_ptr<BatchPlanner> make_static_batch_planner();

}  // namespace servetwin
