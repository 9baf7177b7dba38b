#include "sim/engine/paged_state.hpp"

#include <algorithm>

#include "sim/engine/capacity_policy.hpp"

namespace servetwin {

void PagedCommit::open(SimRequest& req, std::int64_t prefill_target) {
  if (s_.free_slots_.empty()) {
    req.engine_slot = static_cast<std::int64_t>(s_.states_.size());
    s_.states_.emplace_back();
  } else {
    req.engine_slot = s_.free_slots_.back();
    s_.free_slots_.pop_back();
  }
  PagedSeq& s = seq(&req);
  s = PagedSeq{};
  s.req = &req;
  s.prefill_target = prefill_target;
}

void PagedCommit::enqueue(SimRequest* r) {
  s_.waiting_.push_back(r);
  s_.max_waiting_ = std::max<std::int64_t>(s_.max_waiting_, static_cast<std::int64_t>(s_.waiting_.size()));
}

void PagedCommit::close(SimRequest& req) {
  PagedSeq& s = seq(&req);
  s_.pool_.release(s.blocks);
  s_.committed_blocks_ -= s.committed_blocks;
  s.committed_blocks = 0;
  s.req = nullptr;
  s_.free_slots_.push_back(req.engine_slot);
}

void PagedCommit::drop_finished() {
  auto& running = s_.running_;
  running.erase(std::remove_if(running.begin(), running.end(), [](const SimRequest* r) { return r->done && !r->cancelled; }),
                running.end());
}

void PagedCommit::remove(SimRequest* r) {
  s_.waiting_.erase(std::remove(s_.waiting_.begin(), s_.waiting_.end(), r), s_.waiting_.end());
  s_.running_.erase(std::remove(s_.running_.begin(), s_.running_.end(), r), s_.running_.end());
}

void PagedCommit::preempt(SimRequest* victim) {
  PagedSeq& s = seq(victim);
  s_.pool_.release(s.blocks);
  s_.committed_blocks_ -= s.committed_blocks;  // (never happens under a footprint-reserving policy)
  s.committed_blocks = 0;
  s.computed = 0;
  s.prefill_target = victim->in.input_tokens + victim->generated;
  s_.running_.erase(std::remove(s_.running_.begin(), s_.running_.end(), victim), s_.running_.end());
  s_.waiting_.push_front(victim);
  ++s_.preemptions_;
}

void PagedCommit::grow(SimRequest* r, std::int64_t target_blocks) {
  s_.pool_.grow(seq(r).blocks, target_blocks, r->in.prefix_group, s_.shareable_blocks(*r));
}

bool PagedCommit::try_admit(SimRequest* r, std::int64_t budget, std::int64_t reserve_blocks, std::int64_t& n_out) {
  PagedSeq& s = seq(r);
  BlockPool& pool = s_.pool_;
  const std::int64_t block_size = s_.limits_.block_size;
  std::int64_t hit_blocks = 0, hit_cost = 0;
  if (s.computed == 0 && pool.caching()) {
    // A hit covers at most num_tokens - 1 tokens: the last prompt token is always computed (§4).
    const std::int64_t max_hit = (s.prefill_target - 1) / block_size;
    hit_blocks = pool.cached_prefix_blocks(r->in.prefix_group, std::min(max_hit, s_.shareable_blocks(*r)));
    hit_cost = pool.hit_cost(r->in.prefix_group, hit_blocks);
  }
  const std::int64_t start = s.computed + hit_blocks * block_size;
  const std::int64_t remaining = s.prefill_target - start;
  const std::int64_t n = std::min(remaining, budget);
  if (n <= 0) return false;
  if (!s_.limits_.chunked_prefill && n < remaining) return false;
  const std::int64_t new_blocks = s_.blocks_for(start + n) - hit_blocks - s.blocks.blocks();
  if (hit_cost + new_blocks > pool.free() - reserve_blocks) return false;
  const std::int64_t footprint = s_.blocks_for(r->in.input_tokens + r->max_new_tokens);
  const CapacityPolicy& capacity = s_.capacity();
  if (s.committed_blocks == 0 && !capacity.may_start(s_, static_cast<double>(footprint))) return false;
  if (hit_blocks > 0) {
    pool.take_hits(r->in.prefix_group, hit_blocks, s.blocks);
    s.computed = start;
  }
  s.hit_tokens = hit_blocks * block_size;
  s_.hit_tokens_ += static_cast<std::uint64_t>(s.hit_tokens);
  if (!s.admitted_once) s_.prompt_tokens_ += static_cast<std::uint64_t>(r->in.input_tokens);
  s.admitted_once = true;
  if (capacity.reserves_footprint() && s.committed_blocks == 0) {
    s.committed_blocks = footprint;
    s_.committed_blocks_ += footprint;
  }
  pool.grow(s.blocks, s_.blocks_for(start + n), r->in.prefix_group, s_.shareable_blocks(*r));
  n_out = n;
  return true;
}

void PagedCommit::reserve_all(SimRequest* r, std::int64_t blocks) {
  PagedSeq& s = seq(r);
  s_.pool_.grow(s.blocks, blocks, -1, 0);
  if (!s.admitted_once) s_.prompt_tokens_ += static_cast<std::uint64_t>(r->in.input_tokens);
  s.admitted_once = true;
}

SimRequest* PagedCommit::pop_waiting() {
  SimRequest* r = s_.waiting_.front();
  s_.waiting_.pop_front();
  return r;
}

void add_paged_item(const PagedState& state, Step& step, SimRequest* r, std::int64_t n) {
  const PagedSeq& s = state.seq(r);
  StepShape& sh = step.shape;
  if (s.computed < s.prefill_target) {
    // Prompt chunk: attention spans the cached/computed past plus the causal part of the chunk.
    const bool last = s.computed + n >= s.prefill_target;
    step.items.push_back({r, n, last});
    sh.prefill_seqs += 1;
    sh.prefill_tokens += n;
    sh.prefill_attn_pairs += static_cast<double>(n) * (static_cast<double>(s.computed) + static_cast<double>(n + 1) / 2);
  } else {
    step.items.push_back({r, 0, true});
    sh.decode_seqs += 1;
    sh.decode_kv_tokens += s.computed + 1;
  }
  // vLLM computes logits only at each scheduled request's last position (sample indices).
  sh.lm_head_tokens += 1;
}

}  // namespace servetwin
