// HF TGI 1.0.x batch planner (../shared/reference/tgis_and_tgi_scheduling.md §3): prefill alone when
// nothing runs; before each decode step an add-on prefill when the queue's fitting FIFO prefix holds
// floor(batch x waiting_served_ratio) requests, or any once max_waiting_tokens decode steps passed
// since the last prefill; otherwise decode the whole batch. The queue is strict FIFO with
// head-of-line blocking: a prefix of 16-token-rounded lengths within max_batch_prefill_tokens whose
// rounded prompt + maximum output the capacity policy (guaranteed_no_evict over the reserved-token
// ledger) accepts. Each request reserves ceil16(input + max_new - 1) tokens from its prefill on.
#include <algorithm>
#include <cmath>

#include "sim/engine/batch_planner.hpp"
#include "sim/engine/capacity_policy.hpp"
#include "sim/engine/router_loop.hpp"
#include "sim/engine/router_state.hpp"
#include "sim/engine/tgi_planner.hpp"

namespace servetwin {

namespace {

class TgiPlanner final : public RouterLoopPlanner {
 public:
  explicit TgiPlanner(const TgiRules& rules) : rules_(rules) {}
  [[nodiscard]] const char* name() const override { return "tgi"; }

 protected:
  bool plan_prefill(const RouterState& state, RouterCommit& commit, Step& step, bool addon) override {
    std::int64_t min_size = 0;
    if (addon) {
      const auto bs = static_cast<double>(state.running().size());
      min_size = state.waiting_tokens() >= rules_.max_waiting_tokens
                     ? 0
                     : std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(bs * rules_.waiting_served_ratio)));
    }
    const std::size_t n = fitting_prefix(state, min_size);
    if (n == 0) return false;
    start_prefill(state, commit, n, step);
    return true;
  }

  void plan_decode(const RouterState& state, Step& step) const override {
    StepShape& s = step.shape;
    for (auto* r : state.running()) {
      step.items.push_back({r, 0, true});
      s.decode_kv_tokens += r->context_len() + 1;
    }
    s.decode_seqs = static_cast<std::int64_t>(state.running().size());
    s.lm_head_tokens = s.decode_seqs;
  }

 private:
  // Queue::next_batch: the length of the FIFO prefix that fits; 0 when shorter than min_size
  // (0 = no minimum).
  [[nodiscard]] std::size_t fitting_prefix(const RouterState& state, std::int64_t min_size) const {
    std::int64_t prefill = 0, decode = 0;
    std::size_t n = 0;
    const auto& queue = state.waiting();
    for (; n < queue.size(); ++n) {
      const SimRequest* r = queue[n];
      const std::int64_t p = prefill + tgi_ceil16(r->in.input_tokens);
      const std::int64_t d = decode + tgi_ceil16(r->max_new_tokens);
      if (p > rules_.max_batch_prefill_tokens) break;  // head-of-line blocking
      if (!state.capacity().may_start(state, static_cast<double>(p + d))) break;
      prefill = p;
      decode = d;
    }
    if (min_size > 0 && static_cast<std::int64_t>(n) < min_size) return 0;
    return n;
  }

  static void start_prefill(const RouterState& state, RouterCommit& commit, std::size_t n, Step& step) {
    StepShape& s = step.shape;
    for (std::size_t i = 0; i < n; ++i) {
      SimRequest* r = state.waiting().front();
      const std::int64_t in = r->in.input_tokens;
      step.items.push_back({r, in, true});
      s.prefill_seqs += 1;
      s.prefill_tokens += in;
      s.prefill_attn_pairs += static_cast<double>(in) * static_cast<double>(in + 1) / 2;
      commit.start_prefill(r, tgi_reserved_tokens(*r));
    }
    // TGI 1.0 flash models compute logits only at the last prompt token of each request.
    s.lm_head_tokens = s.prefill_seqs;
    step.is_prefill_only = true;
  }

  TgiRules rules_;
};

}  // namespace

std::unique_ptr<BatchPlanner> make_tgi_planner(const TgiRules& rules) { return std::make_unique<TgiPlanner>(rules); }

}  // namespace servetwin
