#include "live/load/open_loop_schedule.hpp"

#include "sim/workload/request_source.hpp"

namespace servetwin::live {

OpenLoopSchedule::OpenLoopSchedule(const ArrivalSpec& spec, std::uint64_t seed, TimeNs start_ns, TimeNs warmup_ns,
                                   std::int64_t warmup_requests)
    : warmup_arrivals_(spec, make_rng(seed, "warmup-arrivals", static_cast<std::uint64_t>(stage_stream_id(spec.rate_per_s)))),
      arrivals_(stage_arrivals(spec, seed)),
      warmup_end_ns_(warmup_ns > 0 ? start_ns + warmup_ns : -1),
      warmup_left_(warmup_ns > 0 ? 0 : warmup_requests),
      warmup_(warmup_ns > 0 || warmup_requests > 0),
      due_ns_(start_ns) {
  end_warmup_if_over();
}

void OpenLoopSchedule::advance() {
  if (!warmup_) {
    due_ns_ += arrivals_.next_gap_ns();
    return;
  }
  --warmup_left_;
  due_ns_ += warmup_arrivals_.next_gap_ns();
  end_warmup_if_over();
}

void OpenLoopSchedule::end_warmup_if_over() {
  if (!warmup_) return;
  const bool over = warmup_end_ns_ >= 0 ? due_ns_ >= warmup_end_ns_ : warmup_left_ <= 0;
  if (!over) return;
  warmup_ = false;
  // A timed warm-up: the measured arrivals start at its end (the stage's measurement window).
  if (warmup_end_ns_ >= 0) due_ns_ = warmup_end_ns_;
}

}  // namespace servetwin::live
