#include "live/load/error_rate_breaker.hpp"

#include <fmt/format.h>

namespace servetwin::live {

ErrorRateBreaker::ErrorRateBreaker(double max_error_rate, TimeNs window_ns)
    : max_error_rate_(max_error_rate), window_ns_(window_ns) {}

void ErrorRateBreaker::reset(TimeNs stage_start_ns) {
  stage_start_ns_ = stage_start_ns;
  buckets_.clear();
  ended_ = errors_ = 0;
}

void ErrorRateBreaker::record(TimeNs t, bool error) {
  if (window_ns_ <= 0) return;
  const TimeNs start = t - (t % kBucketNs);
  if (buckets_.empty() || buckets_.back().start_ns < start) buckets_.push_back({start, 0, 0});
  // A completion timestamped a little before the newest bucket (threads race to the lock) still
  // lands in the newest one: the error is at most 100 ms of window.
  ++buckets_.back().ended;
  ++ended_;
  if (error) {
    ++buckets_.back().errors;
    ++errors_;
  }
}

void ErrorRateBreaker::drop_before(TimeNs t) {
  while (!buckets_.empty() && buckets_.front().start_ns + kBucketNs <= t) {
    ended_ -= buckets_.front().ended;
    errors_ -= buckets_.front().errors;
    buckets_.pop_front();
  }
}

std::string ErrorRateBreaker::check(TimeNs now) {
  if (window_ns_ <= 0) return {};
  drop_before(now - window_ns_);
  if (now - stage_start_ns_ < window_ns_ || ended_ == 0) return {};
  const double rate = static_cast<double>(errors_) / static_cast<double>(ended_);
  if (rate <= max_error_rate_) return {};
  return fmt::format("error-rate breaker: {} of the {} requests that ended in the last {:.1f} s failed ({:.0f}% > "
                     "--max-error-rate {:.0f}%)",
                     errors_, ended_, ns_to_seconds(window_ns_), 100 * rate, 100 * max_error_rate_);
}

}  // namespace servetwin::live
