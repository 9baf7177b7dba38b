#pragma once
// Per-request spread of a served endpoint's front-end delay (API server: HTTP/gRPC parse, tokenizer,
// hand-off to the engine core, the host's scheduling of those processes), as `calibrate probe` measured
// it on lone requests (docs/calibration.md, "Probe an endpoint"): two lone requests with equal prompts
// reach their first token at different times although nothing else runs in the engine. The probe fit
// writes each lone request's TTFT ratio (measured / fitted) into the engine setting
// `api_ttft_spread_ratios`; a simulated request draws one ratio r (deterministically from its id) and
// waits (r - median ratio) x its lone TTFT longer in the front end when r is above the median. The
// median request waits exactly `api_ttft_ns` (the fit's intercept already holds the typical delay), so
// TTFT p50 stays put and the upper percentiles gain the measured tail. Absent setting = no spread
// (every shipped preset: predictions unchanged).
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/time.hpp"

namespace servetwin {

class FrontEndSpread {
 public:
  FrontEndSpread() = default;
  // `ratios`: comma-separated positive numbers (at least 3). Throws ConfigError naming `key` otherwise.
  static FrontEndSpread parse(const std::string& ratios, const std::string& key);
  [[nodiscard]] bool empty() const { return excess_.empty(); }
  // Extra front-end delay of request `request_id`, whose lone TTFT is `lone_ttft_ns`.
  [[nodiscard]] TimeNs extra_ns(std::uint64_t request_id, double lone_ttft_ns) const;
  // max(0, ratio - median) per measured ratio, in the order given.
  [[nodiscard]] const std::vector<double>& excess() const { return excess_; }

 private:
  std::vector<double> excess_;
};

}  // namespace servetwin
