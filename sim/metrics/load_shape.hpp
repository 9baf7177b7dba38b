#pragma once
// How loaded a simulated stage was, read off its request records before they are dropped: the share of
// time-to-first-token spent waiting to be scheduled, and whether every request arrived at once (an offline
// or static batch). Prediction intervals are conditioned on it (sim/interval/stage_regime.hpp).
#include <vector>

#include "sim/metrics/request_record.hpp"

namespace servetwin {

struct LoadShape {
  // sum(first schedule - arrival) / sum(first token - arrival) over requests that produced a token:
  // near 0 below the queueing knee, near 1 far past it. 0 when no request produced a token.
  double queue_wait_share = 0;
  bool all_arrived_at_once = false;  // every request arrived at the same instant
};

LoadShape load_shape_of(const std::vector<RequestRecord>& records);

}  // namespace servetwin
