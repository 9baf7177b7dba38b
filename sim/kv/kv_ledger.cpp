#include "sim/kv/kv_ledger.hpp"

#include <algorithm>
#include <stdexcept>

namespace servetwin {

void KvLedger::set_used(double used, TimeNs now) {
  // Tolerate float noise of accumulated sums, never a real overflow.
  if (used > capacity_ * (1 + 1e-9) + 1e-6) {
    throw std::logic_error("KvLedger: use " + std::to_string(used) + " exceeds capacity " + std::to_string(capacity_) +
                           " " + unit_);
  }
  if (first_ns_ < 0) first_ns_ = now;
  area_ += used_ * static_cast<double>(now - last_ns_);
  last_ns_ = now;
  used_ = used;
  peak_ = std::max(peak_, used);
}

double KvLedger::mean_used(TimeNs now) const {
  if (first_ns_ < 0 || now <= first_ns_) return used_;
  const double area = area_ + used_ * static_cast<double>(now - last_ns_);
  return area / static_cast<double>(now - first_ns_);
}

nlohmann::json KvLedger::to_json(TimeNs now) const {
  return {{"unit", unit_},
          {"capacity", capacity_},
          {"peak", peak_},
          {"mean", mean_used(now)},
          {"peak_fraction", capacity_ > 0 ? peak_ / capacity_ : 0.0},
          {"mean_fraction", capacity_ > 0 ? mean_used(now) / capacity_ : 0.0}};
}

}  // namespace servetwin
