// vLLM V0 batch planner without chunked prefill (vllm_scheduling.md §1.1): a step that admits prompts
// is prefill-only (FCFS, stops at the first failure; token budget, max_num_seqs, 1 % watermark;
// v0.2.2-0.3.3 pad prompt batches to their longest prompt); otherwise a decode step where each
// running request needs a slot, preempting the latest-arrived running request (recompute) when
// blocks run out.
#include <algorithm>
#include <utility>
#include <vector>

#include "sim/engine/batch_planner.hpp"
#include "sim/engine/paged_state.hpp"

namespace servetwin {

namespace {

class VllmV0Planner final : public PagedPlanner {
 public:
  [[nodiscard]] const char* name() const override { return "v0"; }

 protected:
  bool plan_on(const PagedState& state, PagedCommit& commit, Step& step) override {
    if (plan_prefill(state, commit, step)) return true;
    plan_decode(state, commit, step);
    return !step.items.empty();
  }

 private:
  // Step 1: admit new prompts FCFS; a step that admits anything is prefill-only.
  static bool plan_prefill(const PagedState& state, PagedCommit& commit, Step& step) {
    const PagedLimits& lim = state.limits();
    const auto wm = static_cast<std::int64_t>(lim.watermark * static_cast<double>(state.total_blocks()));
    std::int64_t tokens = 0, longest = 0;
    std::vector<std::pair<SimRequest*, std::int64_t>> admitted;
    while (!state.waiting().empty()) {
      SimRequest* r = state.waiting().front();
      const PagedSeq& s = state.seq(r);
      const std::int64_t len = s.prefill_target - s.computed;
      if (lim.prefill_padding) {
        // Padded batch: n x longest within the budget, and at most max_paddings pad tokens (§1.1 c).
        const std::int64_t n_seqs = static_cast<std::int64_t>(admitted.size()) + 1;
        const std::int64_t padded = n_seqs * std::max(longest, len);
        if (padded > lim.max_num_batched_tokens || padded - (tokens + len) > lim.max_paddings) break;
      } else if (tokens + len > lim.max_num_batched_tokens) {
        break;
      }
      if (static_cast<std::int64_t>(state.running().size() + admitted.size()) + 1 > lim.max_num_seqs) break;
      std::int64_t n = 0;
      if (!commit.try_admit(r, lim.max_num_batched_tokens - tokens, wm, n)) break;
      commit.pop_waiting();
      admitted.emplace_back(r, n);
      tokens += n;
      longest = std::max(longest, n);
    }
    if (admitted.empty()) return false;
    for (auto& [r, n] : admitted) {
      commit.push_running(r);
      add_paged_item(state, step, r, n);
    }
    if (lim.prefill_padding) {
      // The pad tokens run through every layer: GEMMs and element-wise work on n x longest
      // tokens, causal attention within each padded row (xformers block-diagonal causal mask).
      // Logits are still taken at one position per prompt.
      StepShape& sh = step.shape;
      const auto n_seqs = static_cast<double>(admitted.size());
      const auto l = static_cast<double>(longest);
      sh.prefill_tokens = static_cast<std::int64_t>(admitted.size()) * longest;
      sh.prefill_attn_pairs = n_seqs * l * (l + 1) / 2;
    }
    step.is_prefill_only = true;
    return true;
  }

  // Step 3: decode every running request; each needs a slot for its next token. When blocks run
  // out the latest-arrived running request is preempted, repeatedly, possibly the current one.
  static void plan_decode(const PagedState& state, PagedCommit& commit, Step& step) {
    const std::vector<SimRequest*>& running = state.running();
    std::vector<SimRequest*> order = running;
    std::stable_sort(order.begin(), order.end(),
                     [](const SimRequest* a, const SimRequest* b) { return a->rec.arrival_ns < b->rec.arrival_ns; });
    std::vector<SimRequest*> scheduled;
    for (SimRequest* r : order) {
      if (std::find(running.begin(), running.end(), r) == running.end()) continue;  // preempted meanwhile
      const PagedSeq& s = state.seq(r);
      // Block manager v1 appends only when at least one block per sequence is free, whether or not
      // this token opens a new block; v2 asks only for the blocks it touches (§1.1 step 3).
      const std::int64_t touched = state.blocks_for(s.computed + 1) - s.blocks.blocks();
      const std::int64_t need = state.limits().v0_block_manager_v2 ? touched : std::max<std::int64_t>(touched, 1);
      bool self_preempted = false;
      while (need > state.free_blocks()) {
        SimRequest* victim = nullptr;
        for (SimRequest* c : running) {
          if (c == r || std::find(scheduled.begin(), scheduled.end(), c) != scheduled.end()) continue;
          if (victim == nullptr || c->rec.arrival_ns > victim->rec.arrival_ns) victim = c;
        }
        if (victim == nullptr) victim = r;
        commit.preempt(victim);
        if (victim == r) {
          self_preempted = true;
          break;
        }
      }
      if (self_preempted) continue;
      commit.grow(r, state.blocks_for(s.computed + 1));
      scheduled.push_back(r);
    }
    for (SimRequest* r : scheduled) add_paged_item(state, step, r, 1);
  }
};

}  // namespace

std::unique_ptr<BatchPlanner> make_vllm_v0_planner() { return std::make_unique<VllmV0Planner>(); }

}  // namespace servetwin
