#include "sim/metrics/rejection_tally.hpp"

#include <algorithm>

namespace servetwin {

void RejectionTally::add_dropped_to(StageMetrics& m) const {
  const std::size_t extra = dropped();
  if (extra == 0) return;
  m.requests += extra;
  m.rejected += extra;
  m.error_rate = static_cast<double>(m.errors + m.timeouts) / static_cast<double>(m.requests);
  m.rejection_rate = static_cast<double>(m.rejected) / static_cast<double>(m.requests);
}

nlohmann::json RejectionTally::to_json(double window_s) const {
  if (count_ == 0) return nullptr;
  const std::size_t kept = std::min(count_, kRecordsKept);
  return {{"count", count_},
          {"per_s", window_s > 0 ? static_cast<double>(count_) / window_s : 0.0},
          {"records_kept", kept},
          {"records_dropped", dropped()},
          {"note", dropped() > 0 ? "rejections beyond the first records_kept are counted, not stored as records"
                                 : "every rejection is stored as a record"}};
}

}  // namespace servetwin
