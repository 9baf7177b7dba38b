#include "sim/core/event_queue.hpp"

#include <limits>
#include <stdexcept>
#include <utility>

namespace servetwin {

EventQueue::EventId EventQueue::schedule(TimeNs at_ns, Callback cb, EventPriority priority) {
  if (at_ns < now_ns_) throw std::logic_error("EventQueue: event scheduled in the past");
  std::uint32_t slot = 0;
  if (free_slots_.empty()) {
    if (slots_.size() >= std::numeric_limits<std::uint32_t>::max()) {
      throw std::length_error("EventQueue: too many pending events");
    }
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  Slot& s = slots_[slot];
  s.cb = std::move(cb);
  s.cancelled = false;
  heap_.push(Entry{at_ns, static_cast<int>(priority), next_seq_++, slot});
  ++live_events_;
  return (static_cast<EventId>(s.generation) << 32) | slot;
}

void EventQueue::cancel(EventId id) {
  const auto slot = static_cast<std::uint32_t>(id & 0xffffffffU);
  const auto generation = static_cast<std::uint32_t>(id >> 32);
  if (slot >= slots_.size()) return;
  Slot& s = slots_[slot];
  // A fired event's slot has moved on to a later generation (or is free): cancelling it is a no-op.
  if (s.generation != generation || s.cancelled || !s.cb) return;
  s.cancelled = true;
  s.cb = nullptr;
  --live_events_;
}

void EventQueue::free_slot(std::uint32_t slot) {
  Slot& s = slots_[slot];
  s.cb = nullptr;
  s.cancelled = false;
  ++s.generation;
  free_slots_.push_back(slot);
}

void EventQueue::drop_cancelled_head() {
  while (!heap_.empty() && slots_[heap_.top().slot].cancelled) {
    const std::uint32_t slot = heap_.top().slot;
    heap_.pop();
    free_slot(slot);
  }
}

TimeNs EventQueue::next_time() const {
  // The head may be a cancelled event (they are dropped lazily when popped); its time is then a lower
  // bound on the next live event's time, which is all a caller sleeping until "next" needs.
  return heap_.top().at_ns;
}

bool EventQueue::step() {
  drop_cancelled_head();
  if (heap_.empty()) return false;
  const Entry e = heap_.top();
  heap_.pop();
  now_ns_ = e.at_ns;
  Callback cb = std::move(slots_[e.slot].cb);
  free_slot(e.slot);  // fired: the id's generation is now stale, so a later cancel() is a no-op
  --live_events_;
  ++executed_;
  cb();
  return true;
}

std::uint64_t EventQueue::run_until(TimeNs until_ns) {
  const std::uint64_t before = executed_;
  for (;;) {
    drop_cancelled_head();
    if (heap_.empty() || heap_.top().at_ns > until_ns) break;
    step();
  }
  return executed_ - before;
}

}  // namespace servetwin
