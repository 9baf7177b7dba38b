#pragma once
// Step-to-step spread of a served engine's step time, as `calibrate probe` measured it on lone requests
// (docs/calibration.md, "Probe an endpoint"): a lone request's inter-token gaps are one engine step each, and
// on a CPU host they scatter around their mean (2-core VM, vLLM CPU: coefficient of variation about 0.2,
// lag-1 autocorrelation -0.2 to +0.2, so nearly independent from step to step). The cost model gives a
// step's mean time; a request that waits for other requests' steps (closed loop, queueing) waits for a sum of
// such steps, so its TTFT tail is wider than a deterministic simulator makes it. The probe fit writes the
// quantiles of gap / its request's mean gap into the engine setting `step_time_ratios`; the engine multiplies
// step k's modelled time by one of them, drawn deterministically from k. The ratios are scaled to mean 1, so
// the mean step time, hence throughput and mean ITL, stay the cost model's. Absent setting = no spread (every
// shipped preset: predictions unchanged).
#include <cstdint>
#include <string>
#include <vector>

namespace servetwin {

class StepTimeSpread {
 public:
  StepTimeSpread() = default;
  // `ratios`: comma-separated positive numbers (at least 3). Throws ConfigError naming `key` otherwise.
  static StepTimeSpread parse(const std::string& ratios, const std::string& key);
  [[nodiscard]] bool empty() const { return ratios_.empty(); }
  // The factor of step `step_index` (1 when empty).
  [[nodiscard]] double ratio(std::uint64_t step_index) const;
  // The ratios, scaled to mean 1, in the order given.
  [[nodiscard]] const std::vector<double>& ratios() const { return ratios_; }

 private:
  std::vector<double> ratios_;
};

}  // namespace servetwin
