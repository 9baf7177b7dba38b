#pragma once
// The discrete-event core: a time-ordered queue of callbacks. It knows nothing about LLMs.
//
// Ordering is total and deterministic: (time, priority, insertion sequence). Two events at the same
// nanosecond run in priority order (lower first, sim/core/event_priority.hpp says why each class
// sits where it does), then in the order they were scheduled, so a run never depends on heap
// implementation details or on pointer values.
#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

#include "sim/core/event_priority.hpp"
#include "sim/core/time.hpp"

namespace servetwin {

class EventQueue {
 public:
  using Callback = std::function<void()>;
  using EventId = std::uint64_t;  // opaque: slot index and that slot's generation

  // Schedules `cb` at absolute time `at_ns` (>= now). Returns an id usable with cancel().
  EventId schedule(TimeNs at_ns, Callback cb, EventPriority priority = EventPriority::kStepEnd);
  // Marks an event as cancelled; it is skipped when popped. Cancelling a fired event is a no-op.
  void cancel(EventId id);

  // Runs events in order until the queue is empty or the next event is after `until_ns`.
  // Returns the number of events executed.
  std::uint64_t run_until(TimeNs until_ns);
  // Runs exactly one event if any; returns false when empty.
  bool step();

  [[nodiscard]] TimeNs now() const { return now_ns_; }
  [[nodiscard]] bool empty() const { return live_events_ == 0; }
  [[nodiscard]] TimeNs next_time() const;  // only valid when !empty(); may be early (cancelled head)
  [[nodiscard]] std::uint64_t executed() const { return executed_; }

 private:
  struct Entry {
    TimeNs at_ns;
    int priority;
    std::uint64_t seq;   // insertion order: the final tie-break
    std::uint32_t slot;  // where the callback lives
    // Min-heap ordering via std::priority_queue (which is a max-heap): "greater" means later.
    bool operator>(const Entry& o) const {
      if (at_ns != o.at_ns) return at_ns > o.at_ns;
      if (priority != o.priority) return priority > o.priority;
      return seq > o.seq;
    }
  };
  // Callbacks live in reusable slots: a slot is taken by schedule() and given back when its heap
  // entry is popped (fired or cancelled), so memory follows the events pending, not the events ever
  // scheduled (a twin server runs for days). The generation makes a stale EventId harmless.
  struct Slot {
    Callback cb;
    std::uint32_t generation = 0;
    bool cancelled = false;
  };
  void drop_cancelled_head();
  void free_slot(std::uint32_t slot);
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_slots_;
  TimeNs now_ns_ = 0;
  std::uint64_t next_seq_ = 0;
  std::uint64_t live_events_ = 0;
  std::uint64_t executed_ = 0;
};

}  // namespace servetwin
