// Static batch planner: one batch of up to max_num_seqs requests is admitted only when nothing runs,
// each with its whole footprint (the static_batch capacity policy decides what fits), prefilled
// together in one step and decoded to completion (static batching, as TensorRT-LLM's
// gptSessionBenchmark and Splitwise's profiles measure).
#include "sim/engine/batch_planner.hpp"
#include "sim/engine/paged_state.hpp"
#include "sim/engine/capacity_policy.hpp"

namespace servetwin {

namespace {

class StaticBatchPlanner final : public PagedPlanner {
 public:
  [[nodiscard]] const char* name() const override { return "static"; }

 protected:
  bool plan_on(const PagedState& state, PagedCommit& commit, Step& step) override {
    if (!state.running().empty()) {
      for (SimRequest* r : state.running()) add_paged_item(state, step, r, 1);
      return true;
    }
    if (state.batch_forming()) return false;  // more requests of this instant are still arriving
    while (!state.waiting().empty() &&
           static_cast<std::int64_t>(state.running().size()) < state.limits().max_num_seqs) {
      SimRequest* r = state.waiting().front();
      const std::int64_t need = state.blocks_for(r->in.input_tokens + r->max_new_tokens);
      if (!state.capacity().may_start(state, static_cast<double>(need))) break;
      commit.pop_waiting();
      commit.reserve_all(r, need);
      commit.push_running(r);
      add_paged_item(state, step, r, state.seq(r).prefill_target);
    }
    step.is_prefill_only = !step.items.empty();
    return !step.items.empty();
  }
};

}  // namespace

std::unique_ptr<BatchPlanner> make_static_batch_planner() { return std::make_unique<StaticBatchPlanner>(); }

}  // namespace servetwin
