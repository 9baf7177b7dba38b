#include "sim/plan/rate_search.hpp"

#include <fmt/format.h>

namespace servetwin {

RateSearch find_max_rate(const Catalog& catalog, const Scenario& s, const PlanSlo& slo, const RateSearchSettings& settings) {
  RateSearch out;
  auto probe = [&](double rate) {
    out.probes.push_back(run_probe(catalog, s, rate, 1, RouterPolicy::kRoundRobin, slo));
    return out.probes.back().met;
  };
  double lo = 0, hi = 0;
  double rate = settings.start_rate_per_s;
  if (probe(rate)) {
    lo = rate;
    for (;;) {
      rate *= 2;
      if (rate > settings.max_rate_per_s) {
        out.found = out.capped = true;
        out.max_rate_per_s = lo;
        return out;
      }
      if (!probe(rate)) break;
      lo = rate;
    }
    hi = rate;
  } else {
    hi = rate;
    for (;;) {
      rate /= 2;
      if (rate < settings.min_rate_per_s) {
        out.reason = fmt::format("SLO not met at any load: at {:.3g} req/s {}", hi, out.probes.back().violations);
        return out;
      }
      if (probe(rate)) break;
      hi = rate;
    }
    lo = rate;
  }
  while (hi - lo > settings.tolerance_rel * lo) {
    const double mid = 0.5 * (lo + hi);
    (probe(mid) ? lo : hi) = mid;
  }
  out.found = true;
  out.max_rate_per_s = lo;
  out.fail_rate_per_s = hi;
  return out;
}

std::optional<RateInterval> max_rate_prediction_interval(const RateSearch& /*search*/) { return std::nullopt; }

}  // namespace servetwin
