#pragma once
// The live runner's error-rate circuit breaker (`--max-error-rate`, `--error-window`): a stage
// whose answers are mostly errors measures nothing but the fault, so it is stopped and the run
// marked partial instead of sending thousands more (issue 20: `--protocol caikit` against a TGIS
// server made 33,846 UNIMPLEMENTED errors in 3 s and exited 0).
//
// Rule: once the stage has run for one window, it trips when more than `max_error_rate` of the
// requests that ended in the trailing window are errors. Counted as errors: answers that say the
// request failed (status kError / kTimeout, stalls included). Not counted: rejections (overload,
// handled by client backoff), an unreachable server (handled by reconnect and its own bound) and
// requests the runner cancelled itself.
#include <cstdint>
#include <deque>
#include <string>

#include "sim/core/time.hpp"

namespace servetwin::live {

class ErrorRateBreaker {
 public:
  // window_ns <= 0: never trips.
  ErrorRateBreaker(double max_error_rate, TimeNs window_ns);
  void reset(TimeNs stage_start_ns);
  void record(TimeNs t, bool error);
  // Why the stage must stop ("" = keep going), at time `now` (non-decreasing between calls).
  std::string check(TimeNs now);

 private:
  // Counts per 100 ms: the window slides in steps of at most a tenth of a second.
  static constexpr TimeNs kBucketNs = 100 * kNsPerMs;
  struct Bucket {
    TimeNs start_ns = 0;
    std::int64_t ended = 0, errors = 0;
  };
  void drop_before(TimeNs t);
  double max_error_rate_;
  TimeNs window_ns_;
  TimeNs stage_start_ns_ = 0;
  std::deque<Bucket> buckets_;
  std::int64_t ended_ = 0, errors_ = 0;  // sums over buckets_
};

}  // namespace servetwin::live
