#pragma once
// When an open-loop stage sends its requests. Warm-up requests (--warmup) arrive on their own
// arrival process; the measured requests then arrive on predict's process for the stage
// (stage_arrivals), started where the warm-up ends. So the measured arrivals are predict's,
// gap for gap, whatever the warm-up (issue 16: predict and load draw the same sequence for the
// measured requests; tests/cli/predict_load_parity.sh).
#include <cstdint>

#include "sim/core/time.hpp"
#include "sim/workload/arrivals.hpp"

namespace servetwin::live {

class OpenLoopSchedule {
 public:
  // Warm-up: `warmup_ns` > 0 = arrivals in [start_ns, start_ns + warmup_ns), the measured ones from
  // start_ns + warmup_ns; else the first `warmup_requests` arrivals (0 = none), the measured ones
  // from the next arrival's time.
  OpenLoopSchedule(const ArrivalSpec& spec, std::uint64_t seed, TimeNs start_ns, TimeNs warmup_ns,
                   std::int64_t warmup_requests);
  // When the next request is due, and whether it is a warm-up request.
  [[nodiscard]] TimeNs due_ns() const { return due_ns_; }
  [[nodiscard]] bool warmup() const { return warmup_; }
  // The request due at due_ns() went out.
  void advance();

 private:
  void end_warmup_if_over();

  ArrivalProcess warmup_arrivals_;
  ArrivalProcess arrivals_;
  TimeNs warmup_end_ns_;       // -1: the warm-up is a request count
  std::int64_t warmup_left_;   // request-count warm-up: arrivals still to send
  bool warmup_;
  TimeNs due_ns_;
};

}  // namespace servetwin::live
