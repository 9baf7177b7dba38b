#include "sim/core/event_queue.hpp"

#include <stdexcept>
#include <utility>

namespace servetwin {

EventQueue::EventId EventQueue::schedule(TimeNs at_ns, Callback cb, int priority) {
  if (at_ns < now_ns_) throw std::logic_error("EventQueue: event scheduled in the past");
  const EventId id = next_seq_++;
  heap_.push(Entry{at_ns, priority, id});
  callbacks_.push_back(std::move(cb));
  cancelled_.push_back(false);
  ++live_events_;
  return id;
}

void EventQueue::cancel(EventId id) {
  if (id >= cancelled_.size() || cancelled_[id] || !callbacks_[id]) return;
  cancelled_[id] = true;
  callbacks_[id] = nullptr;
  --live_events_;
}

void EventQueue::drop_cancelled_head() {
  while (!heap_.empty() && cancelled_[heap_.top().seq]) heap_.pop();
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
  Callback cb = std::move(callbacks_[e.seq]);
  callbacks_[e.seq] = nullptr;
  cancelled_[e.seq] = true;  // fired: later cancel() is a no-op
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
