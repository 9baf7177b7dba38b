#pragma once
// The scheduler state of a paged-KV engine (sim/engine/vllm_engine.hpp) and its KV contract.
//
// KV contract (kv_view.hpp). A batch planner (batch_planner.hpp) and a capacity policy
// (capacity_policy.hpp) see the state only as `const PagedState&` (a KvView in blocks): queues, per-request progress, free and total blocks, cached
// prefixes. Every change to the KV cache and the queues goes through PagedCommit, the one mutating
// path: allocate (grow a request's blocks, take prefix-cache hits, reserve a footprint), preempt
// (free a running request's blocks and requeue it for recompute), and the queue moves that go with
// them. Frees at a request's end or cancellation happen in the engine's step-done and cancel
// handlers through the same class.
// Decisions are applied as the planner takes them, in order, within one planning pass, so a later
// decision of the same step sees the blocks an earlier one took or freed; this is how vLLM's own
// schedulers allocate (V1 allocate_slots, V0 append_slots run inside schedule()). Deferring all of
// them to after planning would need a scratch copy of the prefix-cache LRU to stay exact, and is
// not done. The KvLedger (sim/kv/kv_ledger.hpp) only reports use; it is updated after planning.
#include <cstdint>
#include <deque>
#include <vector>

#include "sim/engine/engine_base.hpp"
#include "sim/engine/kv_view.hpp"
#include "sim/engine/prefix_cache.hpp"

namespace servetwin {

class CapacityPolicy;

// Limits a planner works within (engine settings, resolved once).
struct PagedLimits {
  std::int64_t max_num_seqs = 256;
  std::int64_t max_num_batched_tokens = 2048;
  std::int64_t block_size = 16;
  int block_shift = -1;  // log2(block_size) when it is a power of two
  bool chunked_prefill = true;
  double watermark = 0;
  // v0.2.2-0.3.3 V0 prompt batches run padded to the longest prompt: the budget counts
  // n x longest and the padding may not exceed max_paddings (vllm_scheduling.md §1.1 c).
  bool prefill_padding = false;
  std::int64_t max_paddings = 256;
  // V0 decode slot check: block manager v1 (default until #8704, Oct 2024) or v2 (§1.1 step 3).
  bool v0_block_manager_v2 = false;
};

// Per-request scheduler state (indexed by SimRequest::engine_slot).
struct PagedSeq {
  SimRequest* req = nullptr;
  std::int64_t computed = 0;        // tokens whose KV exists (prefix hits included)
  std::int64_t prefill_target = 0;  // tokens to compute before the next token is emitted
  std::int64_t hit_tokens = 0;      // prefix-cache hit at the latest admission
  bool admitted_once = false;
  std::int64_t committed_blocks = 0;  // a footprint-reserving policy: the full footprint reserved at start
  BlockPool::Holding blocks;
};

class PagedState final : public KvView {
 public:
  // Empty until PagedCommit::configure.

  // --- The read-only view: all that planning may use. ---
  [[nodiscard]] const PagedLimits& limits() const { return limits_; }
  [[nodiscard]] const CapacityPolicy& capacity() const { return *capacity_; }
  [[nodiscard]] const std::deque<SimRequest*>& waiting() const { return waiting_; }
  [[nodiscard]] const std::vector<SimRequest*>& running() const { return running_; }  // admission order
  [[nodiscard]] const PagedSeq& seq(const SimRequest* r) const { return states_[static_cast<std::size_t>(r->engine_slot)]; }
  [[nodiscard]] const BlockPool& pool() const { return pool_; }
  [[nodiscard]] std::int64_t free_blocks() const { return pool_.free(); }
  [[nodiscard]] std::int64_t total_blocks() const { return pool_.total(); }
  [[nodiscard]] std::int64_t committed_blocks() const { return committed_blocks_; }
  // KvView, in blocks.
  [[nodiscard]] const char* kv_unit() const override { return "blocks"; }
  [[nodiscard]] double kv_total() const override { return static_cast<double>(total_blocks()); }
  [[nodiscard]] double kv_free() const override { return static_cast<double>(free_blocks()); }
  [[nodiscard]] double kv_committed() const override { return static_cast<double>(committed_blocks_); }
  // Static batches: this instant's arrivals are still coming in, so no batch may form yet.
  [[nodiscard]] bool batch_forming() const { return batch_forming_; }
  [[nodiscard]] std::int64_t blocks_for(std::int64_t tokens) const {
    // A shift for the usual power-of-two block sizes: this runs for every request in every step.
    const std::int64_t bs = limits_.block_size;
    return limits_.block_shift >= 0 ? (tokens + bs - 1) >> limits_.block_shift : (tokens + bs - 1) / bs;
  }
  [[nodiscard]] std::int64_t shareable_blocks(const SimRequest& r) const {
    return r.in.prefix_group >= 0 ? r.in.shared_prefix_tokens / limits_.block_size : 0;
  }
  // Statistics.
  [[nodiscard]] std::uint64_t preemptions() const { return preemptions_; }
  [[nodiscard]] std::uint64_t hit_tokens() const { return hit_tokens_; }
  [[nodiscard]] std::uint64_t prompt_tokens() const { return prompt_tokens_; }
  [[nodiscard]] std::int64_t max_waiting() const { return max_waiting_; }

 private:
  friend class PagedCommit;
  PagedLimits limits_;
  const CapacityPolicy* capacity_ = nullptr;
  BlockPool pool_;
  std::vector<PagedSeq> states_;
  std::vector<std::int64_t> free_slots_;
  std::deque<SimRequest*> waiting_;
  std::vector<SimRequest*> running_;
  std::int64_t committed_blocks_ = 0;  // sum of running requests' reserved footprints
  bool batch_forming_ = false;
  std::uint64_t preemptions_ = 0, hit_tokens_ = 0, prompt_tokens_ = 0;
  std::int64_t max_waiting_ = 0;
};

// The one mutating path of a PagedState (see the contract at the top).
class PagedCommit final : public KvCommit {
 public:
  explicit PagedCommit(PagedState& state) : s_(state) {}

  // --- Set-up and request lifecycle (engine). ---
  void configure(const PagedLimits& limits, const CapacityPolicy& capacity, BlockPool pool) {
    s_.limits_ = limits;
    s_.capacity_ = &capacity;
    s_.pool_ = std::move(pool);
  }
  void set_batch_forming(bool forming) { s_.batch_forming_ = forming; }
  // Before any request: the first `shared_tokens` of prefix `group` were computed by an earlier request
  // on the same server and are still cached (their full blocks; BlockPool::prime).
  void prime_prefix(std::int64_t group, std::int64_t shared_tokens) {
    s_.pool_.prime(group, shared_tokens / s_.limits_.block_size);
  }
  // Takes a slot for an accepted request whose first `prefill_target` tokens are to be computed.
  void open(SimRequest& req, std::int64_t prefill_target);
  void enqueue(SimRequest* r);
  // A finished or cancelled request: frees its blocks, its footprint and its slot.
  void close(SimRequest& req);
  // Drops requests with done && !cancelled from the running list (after close()).
  void drop_finished();
  void remove(SimRequest* r);  // from both queues (cancellation)

  // --- Planning decisions, applied at once. ---
  // Frees the victim's blocks and puts it at the head of the waiting queue; it recomputes its
  // prompt and everything generated so far (§1.1, §1.3).
  void preempt(SimRequest* victim);
  // Grows r's blocks to `target_blocks` (caller checked free_blocks()).
  void grow(SimRequest* r, std::int64_t target_blocks);
  // A waiting request's next chunk of at most `budget` tokens: prefix-cache lookup, the capacity
  // policy's start check, allocation; false (nothing changed) when it does not fit with
  // `reserve_blocks` left free. n_out = tokens scheduled.
  bool try_admit(SimRequest* r, std::int64_t budget, std::int64_t reserve_blocks, std::int64_t& n_out);
  // Static batches: allocates r's whole footprint of `blocks` at once.
  void reserve_all(SimRequest* r, std::int64_t blocks);
  SimRequest* pop_waiting();
  void push_running(SimRequest* r) { s_.running_.push_back(r); }
  // Counts computed tokens after a step (prefill chunk, or one decode token).
  void advance(SimRequest* r, std::int64_t tokens) { seq(r).computed += tokens; }

 private:
  PagedSeq& seq(const SimRequest* r) { return s_.states_[static_cast<std::size_t>(r->engine_slot)]; }
  PagedState& s_;
};

// Adds r's work to the step: a prompt chunk of n tokens, or one decode token (step-shape only).
void add_paged_item(const PagedState& state, Step& step, SimRequest* r, std::int64_t n);

}  // namespace servetwin
