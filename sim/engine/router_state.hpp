#pragma once
// The scheduler state of the TGI-family routers (HF TGI 1.x/2.x, sim/engine/tgi_engine.hpp, and
// IBM's TGIS fork, tgis_engine.hpp; ../shared/reference/tgis_and_tgi_scheduling.md) and its KV
// contract (kv_view.hpp). These routers hold no paged cache: one FIFO queue, one running batch that
// a prefill joins whole, and a ledger of the tokens each running request reserved (TGI reserves its
// full length at its prefill; TGIS reserves nothing and its planner projects batch weights from the
// running requests' lengths instead).
//
// KV contract. The planners (tgi_planner.cpp, tgis_planner.cpp) and the capacity policy see
// `const RouterState&`; RouterCommit is the one mutating path: start a prefill (take a request out
// of the queue and reserve its tokens), and the engine's step-done and cancel handlers (join the
// running batch, free a finished or cancelled request's reservation). A planner decides a whole
// batch against the read-only state, then commits it: these routers form a batch all or nothing
// (a batch short of its minimum size is not taken).
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "sim/engine/engine_base.hpp"
#include "sim/engine/kv_view.hpp"

namespace servetwin {

class CapacityPolicy;

class RouterState final : public KvView {
 public:
  // Empty until RouterCommit::configure.

  // --- The read-only view: all that planning may use. ---
  [[nodiscard]] const CapacityPolicy& capacity() const { return *capacity_; }
  [[nodiscard]] const std::deque<SimRequest*>& waiting() const { return waiting_; }
  [[nodiscard]] const std::vector<SimRequest*>& running() const { return running_; }  // join order
  // Tokens r reserved at its prefill (0 when it holds none).
  [[nodiscard]] static std::int64_t reserved_tokens(const SimRequest& r) { return r.engine_slot; }
  // The router's waiting_tokens counter: 1 right after a prefill, +1 per decode step.
  [[nodiscard]] std::int64_t waiting_tokens() const { return waiting_tokens_; }
  [[nodiscard]] TimeNs now_ns() const { return now_ns_; }
  [[nodiscard]] TimeNs last_prefill_end_ns() const { return last_prefill_end_ns_; }  // -1: none yet
  [[nodiscard]] TimeNs last_prefill_duration_ns() const { return last_prefill_duration_ns_; }
  // A prefill joined a batch that was already running, and no decode step has run since.
  [[nodiscard]] bool merge_pending() const { return merge_pending_; }
  // KvView, in the engine's ledger unit.
  [[nodiscard]] const char* kv_unit() const override { return unit_.c_str(); }
  [[nodiscard]] double kv_total() const override { return total_; }
  [[nodiscard]] double kv_free() const override { return total_ - static_cast<double>(reserved_); }
  [[nodiscard]] double kv_committed() const override { return static_cast<double>(reserved_); }
  // Statistics.
  [[nodiscard]] std::int64_t max_waiting() const { return max_waiting_; }
  [[nodiscard]] std::uint64_t addon_prefills() const { return addon_prefills_; }
  [[nodiscard]] std::uint64_t skipped_candidates() const { return skipped_candidates_; }

 private:
  friend class RouterCommit;
  std::string unit_ = "tokens";
  double total_ = 0;
  const CapacityPolicy* capacity_ = nullptr;
  std::deque<SimRequest*> waiting_;
  std::vector<SimRequest*> running_;
  std::int64_t reserved_ = 0;  // sum of reserved_tokens over requests holding a reservation
  std::int64_t waiting_tokens_ = 0;
  TimeNs now_ns_ = 0;
  TimeNs last_prefill_end_ns_ = -1;
  TimeNs last_prefill_duration_ns_ = 0;
  bool merge_pending_ = false;
  std::int64_t max_waiting_ = 0;
  std::uint64_t addon_prefills_ = 0, skipped_candidates_ = 0;
};

// The one mutating path of a RouterState (see the contract at the top).
class RouterCommit final : public KvCommit {
 public:
  explicit RouterCommit(RouterState& state) : s_(state) {}

  // --- Set-up and request lifecycle (engine). ---
  void configure(std::string unit, double total, const CapacityPolicy& capacity) {
    s_.unit_ = std::move(unit);
    s_.total_ = total;
    s_.capacity_ = &capacity;
  }
  void set_now(TimeNs now_ns) { s_.now_ns_ = now_ns; }
  void enqueue(SimRequest* r);
  // After a prefill step: its requests join the running batch in step order; finished or cancelled
  // ones free their reservation instead.
  void prefill_done(const Step& step);
  // After a decode step: finished and cancelled requests leave the batch and free their reservation.
  void decode_done();
  // A cancelled request: out of the queue or the batch, reservation freed (a no-op when already gone).
  void close(SimRequest& r);

  // --- Planning decisions. ---
  // Takes r out of the queue into the prefill being formed, reserving `reserve_tokens`.
  void start_prefill(SimRequest* r, std::int64_t reserve_tokens);
  void count_addon_prefill() { ++s_.addon_prefills_; }
  void count_skipped(std::uint64_t n) { s_.skipped_candidates_ += n; }

 private:
  void release(SimRequest& r);
  RouterState& s_;
};

}  // namespace servetwin
