#include "sim/engine/step_time_spread.hpp"

#include <numeric>

#include "sim/core/rng.hpp"
#include "sim/engine/ratio_list.hpp"

namespace servetwin {

StepTimeSpread StepTimeSpread::parse(const std::string& ratios, const std::string& key) {
  StepTimeSpread s;
  s.ratios_ = parse_ratio_list(ratios, key);
  const double mean = std::accumulate(s.ratios_.begin(), s.ratios_.end(), 0.0) / static_cast<double>(s.ratios_.size());
  for (double& r : s.ratios_) r /= mean;
  return s;
}

double StepTimeSpread::ratio(std::uint64_t step_index) const {
  if (ratios_.empty()) return 1.0;
  // A step's draw depends on its index alone: the same run gets the same step times every time.
  return ratios_[derive_seed(step_index, "step-time-spread") % ratios_.size()];
}

}  // namespace servetwin
