#include "sim/metrics/load_shape.hpp"

#include <algorithm>

namespace servetwin {

LoadShape load_shape_of(const std::vector<RequestRecord>& records) {
  LoadShape shape;
  if (records.empty()) return shape;
  TimeNs first_arrival = records.front().arrival_ns, last_arrival = records.front().arrival_ns;
  double wait_ns = 0, ttft_ns = 0;
  for (const auto& r : records) {
    first_arrival = std::min(first_arrival, r.arrival_ns);
    last_arrival = std::max(last_arrival, r.arrival_ns);
    if (r.first_token_ns < 0 || r.arrival_ns < 0) continue;
    // A record without a schedule time (a reader of another tool's file) counts as never waiting.
    const TimeNs scheduled = r.ack_ns >= r.arrival_ns ? std::min(r.ack_ns, r.first_token_ns) : r.arrival_ns;
    wait_ns += static_cast<double>(scheduled - r.arrival_ns);
    ttft_ns += static_cast<double>(r.first_token_ns - r.arrival_ns);
  }
  shape.queue_wait_share = ttft_ns > 0 ? wait_ns / ttft_ns : 0.0;
  shape.all_arrived_at_once = first_arrival == last_arrival;
  return shape;
}

}  // namespace servetwin
