// vLLM V1 batch planner (vllm_scheduling.md §1.3): one token budget (max_num_batched_tokens) per
// step; RUNNING requests first in admission order (decodes cost 1 token, unfinished prompts get
// chunks), then WAITING requests FCFS while running < max_num_seqs, with a prefix-cache lookup at
// first admission, head-of-line blocking on KV allocation failure, no watermark; when a running
// request cannot get a block, the most recently admitted running request is preempted (recompute)
// and the waiting loop is skipped for that step.
#include <algorithm>

#include "sim/engine/batch_planner.hpp"
#include "sim/engine/paged_state.hpp"

namespace servetwin {

namespace {

class VllmV1Planner final : public PagedPlanner {
 public:
  [[nodiscard]] const char* name() const override { return "v1"; }

 protected:
  bool plan_on(const PagedState& state, PagedCommit& commit, Step& step) override {
    std::int64_t budget = state.limits().max_num_batched_tokens;
    bool preempted = false;
    const std::vector<SimRequest*>& running = state.running();
    // RUNNING first, in admission order. Iterate by index: preemption removes from the tail.
    for (std::size_t i = 0; i < running.size() && budget > 0; ++i) {
      SimRequest* r = running[i];
      const PagedSeq& s = state.seq(r);
      const std::int64_t owed = s.computed < s.prefill_target ? s.prefill_target - s.computed : 1;
      const std::int64_t n = std::min(owed, budget);
      const std::int64_t target = state.blocks_for(s.computed + n);
      const std::int64_t need = target - s.blocks.blocks();
      bool self_preempted = false;
      while (need > state.free_blocks()) {
        SimRequest* victim = running.back();
        commit.preempt(victim);
        preempted = true;
        if (victim == r) {
          self_preempted = true;
          break;
        }
      }
      if (self_preempted) break;
      commit.grow(r, target);
      add_paged_item(state, step, r, n);
      budget -= n;
    }
    // WAITING only when nothing was preempted this step (§1.3).
    while (!preempted && budget > 0 && !state.waiting().empty() &&
           static_cast<std::int64_t>(running.size()) < state.limits().max_num_seqs) {
      SimRequest* r = state.waiting().front();
      std::int64_t n = 0;
      if (!commit.try_admit(r, budget, 0, n)) break;  // head-of-line blocking
      commit.pop_waiting();
      commit.push_running(r);
      add_paged_item(state, step, r, n);
      budget -= n;
    }
    return !step.items.empty();
  }
};

}  // namespace

std::unique_ptr<BatchPlanner> make_vllm_v1_planner() { return std::make_unique<VllmV1Planner>(); }

}  // namespace servetwin
