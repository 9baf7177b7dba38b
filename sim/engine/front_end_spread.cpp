#include "sim/engine/front_end_spread.hpp"

#include <algorithm>
#include <cmath>

#include "sim/core/rng.hpp"
#include "sim/engine/ratio_list.hpp"

namespace servetwin {

FrontEndSpread FrontEndSpread::parse(const std::string& ratios, const std::string& key) {
  const std::vector<double> values = parse_ratio_list(ratios, key);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  const double median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  FrontEndSpread s;
  for (const double v : values) s.excess_.push_back(std::max(0.0, v - median));
  return s;
}

TimeNs FrontEndSpread::extra_ns(std::uint64_t request_id, double lone_ttft_ns) const {
  if (excess_.empty() || lone_ttft_ns <= 0) return 0;
  // A request's draw depends on its id alone: the same request gets the same delay in every run,
  // whatever order events happen in.
  const std::uint64_t pick = derive_seed(request_id, "front-end-spread") % excess_.size();
  return static_cast<TimeNs>(std::llround(excess_[pick] * lone_ttft_ns));
}

}  // namespace servetwin
