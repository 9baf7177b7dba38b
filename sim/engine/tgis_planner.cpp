// IBM TGIS batch planner (../shared/reference/tgis_and_tgi_scheduling.md §1.2-1.4): prefill runs
// alone while decode stalls; an add-on prefill before a decode step when the queue holds min_size
// requests, min_size falling linearly over MAX_WAITING_TOKENS steps, and (E2) not before half the
// last prefill's duration has passed since it ended; no preemption. Batches are FIFO with bounded
// skipping (a candidate that does not fit is skipped; requests that arrived more than the 1 s
// cutoff after the first skipped one are not considered), MAX_BATCH_SIZE, the worst-case memory
// check through the capacity policy (projected_peak: the batch's projected peak weight within the
// weight limit), the prefill weight limit scaled by the free fraction, and the padding limit for
// padded E2 batches.
#include "sim/engine/tgis_planner.hpp"

#include <algorithm>
#include <cmath>

#include "sim/engine/capacity_policy.hpp"
#include "sim/engine/router_loop.hpp"
#include "sim/engine/router_state.hpp"

namespace servetwin {

double TgisWeights::current(const std::vector<SimRequest*>& running) const {
  if (padded) {
    std::int64_t max_len = 0;
    for (const auto* r : running) max_len = std::max(max_len, r->context_len());
    const double bs = static_cast<double>(running.size()), len = static_cast<double>(max_len);
    return e1 ? bs * len * len : nt_coef * bs * len;
  }
  double tokens = 0;
  for (const auto* r : running) tokens += static_cast<double>(r->context_len());
  return e1 ? tokens : nt_coef * tokens;
}

double TgisWeights::projected_peak(std::vector<TgisCandidate> all) const {
  // Sort by remaining output, longest first; when the k-th finishes, requests 1..k are still in the
  // batch, each grown by out_k tokens.
  std::sort(all.begin(), all.end(), [](const TgisCandidate& a, const TgisCandidate& b) {
    return a.remaining != b.remaining ? a.remaining > b.remaining : a.len > b.len;
  });
  double peak = 0, len_sum = 0, len_max = 0;
  for (std::size_t k = 0; k < all.size(); ++k) {
    const double len = static_cast<double>(all[k].len), out = static_cast<double>(all[k].remaining);
    const double n = static_cast<double>(k + 1);
    len_sum += len;
    len_max = std::max(len_max, len);
    double w = 0;
    if (padded) {
      const double per_seq = len_max + out;
      w = e1 ? n * per_seq * per_seq : nt_coef * n * per_seq;
    } else {
      w = (e1 ? 1.0 : nt_coef) * (len_sum + n * out);
    }
    peak = std::max(peak, w);
  }
  return peak;
}

double TgisWeights::prefill(const std::vector<SimRequest*>& batch) const {
  double sum_in = 0, max_in = 0;
  for (const auto* r : batch) {
    sum_in += static_cast<double>(r->in.input_tokens);
    max_in = std::max(max_in, static_cast<double>(r->in.input_tokens));
  }
  const double bs = static_cast<double>(batch.size());
  if (e1) return padded ? bs * std::pow(max_in, 1.5) : sum_in;
  return pf_coef * (padded ? bs * max_in : sum_in);
}

namespace {

class TgisPlanner final : public RouterLoopPlanner {
 public:
  explicit TgisPlanner(const TgisRules& rules) : rules_(rules), w_(rules_.weights) {}
  [[nodiscard]] const char* name() const override { return "tgis"; }

 protected:
  bool plan_prefill(const RouterState& state, RouterCommit& commit, Step& step, bool addon) override {
    if (addon && !addon_allowed(state)) return false;
    const auto batch = next_batch(state, commit, addon ? addon_min_size(state) : 1);
    if (batch.empty()) return false;
    start_prefill(batch, commit, step);
    return true;
  }

 private:
  // An add-on prefill needs >= 2 tokens of output left in the batch and, in E2, half the last
  // prefill's duration passed since it ended.
  [[nodiscard]] bool addon_allowed(const RouterState& state) const {
    std::int64_t remaining_sum = 0;
    for (const auto* r : state.running()) remaining_sum += r->max_new_tokens - r->generated;
    const TimeNs end = state.last_prefill_end_ns();
    const bool e2_delay_ok = w_.e1 || end < 0 || state.now_ns() > end + state.last_prefill_duration_ns() / 2;
    return remaining_sum >= 2 && e2_delay_ok;
  }

  [[nodiscard]] std::int64_t addon_min_size(const RouterState& state) const {
    const auto bs = static_cast<std::int64_t>(state.running().size());
    const std::int64_t waited = state.waiting_tokens(), max_waited = rules_.max_waiting_tokens;
    return (bs <= 1 || waited >= max_waited) ? 1 : std::max<std::int64_t>(1, bs * (max_waited - waited) / max_waited);
  }

  // The prefill weight limit, scaled by the free fraction of the batch limit when a batch runs (§1.2).
  [[nodiscard]] double prefill_limit(const RouterState& state) const {
    const bool running = !state.running().empty();
    const double cur = w_.current(state.running());
    if (w_.e1) {
      return rules_.prefill_limit <= 0 ? 1e300 : (running ? rules_.prefill_limit * (1 - cur / w_.limit) : rules_.prefill_limit);
    }
    return running ? w_.limit - cur : w_.limit;
  }

  // Whether `chosen` plus the candidate stays within the prefill weight and (padded E2) padding limits.
  [[nodiscard]] bool prefill_fits(std::vector<SimRequest*>& chosen, SimRequest* cand, double pf_limit) const {
    chosen.push_back(cand);
    bool ok = w_.prefill(chosen) <= pf_limit;
    if (ok && w_.padded && !w_.e1) {
      double sum_in = 0, max_in = 0;
      for (const auto* r : chosen) {
        sum_in += static_cast<double>(r->in.input_tokens);
        max_in = std::max(max_in, static_cast<double>(r->in.input_tokens));
      }
      const double total = static_cast<double>(chosen.size()) * max_in;
      ok = (total - sum_in) / total <= rules_.max_prefill_padding;
    }
    chosen.pop_back();
    return ok;
  }

  // Decides the next prefill batch against the read-only state (empty: none of min_size), then
  // counts the skipped candidates (also when no batch forms).
  std::vector<SimRequest*> next_batch(const RouterState& state, RouterCommit& commit, std::int64_t min_size) const {
    std::uint64_t skipped = 0;
    auto batch = choose(state, min_size, skipped);
    commit.count_skipped(skipped);
    return batch;
  }

  std::vector<SimRequest*> choose(const RouterState& state, std::int64_t min_size, std::uint64_t& skipped) const {
    const auto& queue = state.waiting();
    const auto running = static_cast<std::int64_t>(state.running().size());
    if (static_cast<std::int64_t>(queue.size()) < min_size || running + min_size > rules_.max_batch_size) return {};
    const double pf_limit = prefill_limit(state);
    if (pf_limit <= 0) return {};
    std::vector<TgisCandidate> base;
    base.reserve(state.running().size() + queue.size());
    double fast_sum = 0;  // worst-case total length of the batch, a fast upper bound of its peak
    for (const auto* r : state.running()) {
      base.push_back({r->context_len(), r->max_new_tokens - r->generated});
      fast_sum += static_cast<double>(base.back().len + base.back().remaining);
    }
    const CapacityPolicy& capacity = state.capacity();
    std::vector<SimRequest*> chosen;
    TimeNs cutoff = -1;
    for (std::size_t i = 0; i < queue.size(); ++i) {
      SimRequest* cand = queue[i];
      if (cutoff >= 0 && cand->rec.arrival_ns > cutoff) break;
      if (running + static_cast<std::int64_t>(chosen.size()) >= rules_.max_batch_size) break;
      const TgisCandidate c{cand->in.input_tokens, cand->max_new_tokens};
      // Memory: the fast bound first, the exact projection only when that bound is exceeded.
      const double fast = fast_sum + static_cast<double>(c.len + c.remaining);
      bool mem_ok = !w_.padded && capacity.may_start(state, w_.e1 ? fast : w_.nt_coef * fast);
      if (!mem_ok) {
        base.push_back(c);
        mem_ok = capacity.may_start(state, w_.projected_peak(base));
        base.pop_back();
        const auto left = static_cast<std::int64_t>(queue.size() - i - 1);
        if (!mem_ok && static_cast<std::int64_t>(chosen.size()) + left < min_size) return {};
      }
      if (!mem_ok || !prefill_fits(chosen, cand, pf_limit)) {
        ++skipped;
        if (cutoff < 0) cutoff = cand->rec.arrival_ns + static_cast<TimeNs>(rules_.cutoff_ns);
        continue;
      }
      chosen.push_back(cand);
      base.push_back(c);
      fast_sum = fast;
    }
    if (static_cast<std::int64_t>(chosen.size()) < min_size || chosen.empty()) return {};
    return chosen;
  }

  void start_prefill(const std::vector<SimRequest*>& batch, RouterCommit& commit, Step& step) const {
    StepShape& s = step.shape;
    std::int64_t max_in = 0;
    for (auto* r : batch) {
      const std::int64_t in = r->in.input_tokens;
      step.items.push_back({r, in, true});  // the prefill also produces the first token
      s.prefill_seqs += 1;
      s.prefill_tokens += in;
      s.prefill_attn_pairs += static_cast<double>(in) * static_cast<double>(in + 1) / 2;
      max_in = std::max(max_in, in);
      commit.start_prefill(r, 0);  // TGIS reserves nothing: the next projection counts r's length
    }
    // TGIS computes LM-head logits for every prompt token (no lm_head_indices, §1.7).
    s.lm_head_tokens = w_.padded ? s.prefill_seqs * max_in : s.prefill_tokens;
    s.padded = w_.padded;
    s.padded_prefill_tokens = w_.padded ? s.prefill_seqs * max_in : 0;
    step.is_prefill_only = true;
  }

  void plan_decode(const RouterState& state, Step& step) const override {
    StepShape& s = step.shape;
    std::int64_t ctx_sum = 0, ctx_max = 0;
    for (auto* r : state.running()) {
      step.items.push_back({r, 0, true});
      ctx_sum += r->context_len();
      ctx_max = std::max(ctx_max, r->context_len());
    }
    const auto bs = static_cast<std::int64_t>(state.running().size());
    s.decode_seqs = bs;
    s.decode_kv_tokens = ctx_sum + bs;  // attention reads the past plus the new token's own K/V
    s.lm_head_tokens = bs;
    s.padded = w_.padded;
    s.padded_decode_kv_tokens = w_.padded ? bs * (ctx_max + 1) : 0;
    if (rules_.kv_concat && !w_.padded) {
      // torch.cat rebuilds the contiguous KV cache (read + write) every step when bs > 1, and once
      // more when an add-on batch was merged.
      const double kv_bytes = static_cast<double>(ctx_sum) * rules_.kv_bytes_per_token;
      double copies = bs > 1 ? 1 : 0;
      if (state.merge_pending()) copies += 1;
      s.copy_bytes_per_gpu = 2 * kv_bytes * copies;
    }
  }

  TgisRules rules_;
  const TgisWeights& w_;
};

}  // namespace

std::unique_ptr<BatchPlanner> make_tgis_planner(const TgisRules& rules) { return std::make_unique<TgisPlanner>(rules); }

}  // namespace servetwin
