#include "sim/workload/client_backoff.hpp"

#include <algorithm>
#include <cmath>

namespace servetwin {

ClientBackoff::ClientBackoff(ClientBackoffSpec spec, std::uint64_t seed, std::uint64_t stream)
    : spec_(spec), rng_(make_rng(seed, "client_backoff", stream)) {}

TimeNs ClientBackoff::on_refused(std::int64_t user, double retry_after_s) {
  const auto slot = static_cast<std::size_t>(std::max<std::int64_t>(user, 0));
  if (slot >= consecutive_.size()) consecutive_.resize(slot + 1, 0);
  const int k = ++consecutive_[slot];
  // The draw is taken on every refusal, Retry-After or not, so one user's answers do not shift
  // another's jitter sequence differently depending on which headers the server sent.
  const double u01 = static_cast<double>(rng_() >> 11U) * 0x1.0p-53;
  double wait_s = 0;
  if (retry_after_s >= 0 && std::isfinite(retry_after_s)) {
    wait_s = std::min(retry_after_s, spec_.max_retry_after_s);
    ++retry_after_waits_;
  } else {
    // 2^(k-1) grows past any cap by k = 64; the exponent is bounded so the power stays finite.
    const double step = spec_.base_s * std::exp2(static_cast<double>(std::min(k, 64) - 1));
    wait_s = std::min(step, spec_.cap_s) * (0.5 + 0.5 * u01);
  }
  const TimeNs wait = seconds_to_ns(wait_s);
  ++waits_;
  total_ns_ += wait;
  max_ns_ = std::max(max_ns_, wait);
  return wait;
}

void ClientBackoff::on_served(std::int64_t user) {
  const auto slot = static_cast<std::size_t>(std::max<std::int64_t>(user, 0));
  if (slot < consecutive_.size()) consecutive_[slot] = 0;
}

nlohmann::json ClientBackoff::to_json() const {
  return {{"waits", waits_},
          {"retry_after_waits", retry_after_waits_},
          {"total_wait_s", ns_to_seconds(total_ns_)},
          {"max_wait_s", ns_to_seconds(max_ns_)}};
}

}  // namespace servetwin
