#include "sim/plan/rate_search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

namespace servetwin {
namespace {

struct Threshold {
  bool found = false, capped = false;
  double lo = 0, hi = 0;  // lo met, hi failed (when found and not capped); hi = lowest failed level otherwise
};

// The bracket-then-bisect search both loads share. `integer` levels (closed-loop users) halve and
// bisect on whole numbers and stop once hi - lo <= max(1, tolerance * lo); rates stop at
// hi - lo <= tolerance * lo. The rate arithmetic is the search's original, so plans do not move.
Threshold bracket_and_bisect(const RateSearchSettings& b, bool integer, const std::function<bool(double)>& met) {
  Threshold t;
  double level = b.start_rate_per_s;
  if (met(level)) {
    t.lo = level;
    for (;;) {
      level *= 2;
      if (level > b.max_rate_per_s) {
        t.found = t.capped = true;
        return t;
      }
      if (!met(level)) break;
      t.lo = level;
    }
    t.hi = level;
  } else {
    t.hi = level;
    for (;;) {
      level = integer ? std::floor(level / 2) : level / 2;
      if (level < b.min_rate_per_s) return t;
      if (met(level)) break;
      t.hi = level;
    }
    t.lo = level;
  }
  const auto done = [&] { return integer ? t.hi - t.lo <= std::max(1.0, b.tolerance_rel * t.lo) : !(t.hi - t.lo > b.tolerance_rel * t.lo); };
  while (!done()) {
    const double mid = integer ? std::floor(0.5 * (t.lo + t.hi)) : 0.5 * (t.lo + t.hi);
    (met(mid) ? t.lo : t.hi) = mid;
  }
  t.found = true;
  return t;
}

// The search's result from its threshold; `lowest` names the lowest load tried, for the reason.
RateSearch finish(RateSearch out, const Threshold& t, const std::string& lowest) {
  out.found = t.found;
  out.capped = t.capped;
  out.max_rate_per_s = t.lo;
  out.fail_rate_per_s = t.found && !t.capped ? t.hi : 0;
  if (!t.found) out.reason = fmt::format("SLO not met at any load: {} {}", lowest, out.probes.back().violations);
  return out;
}

}  // namespace

RateSearch find_max_rate(const Catalog& catalog, const Scenario& s, const PlanSlo& slo, const RateSearchSettings& settings) {
  RateSearch out;
  const Threshold t = bracket_and_bisect(settings, false, [&](double rate) {
    out.probes.push_back(run_probe(catalog, s, rate, 1, RouterPolicy::kRoundRobin, slo));
    return out.probes.back().met;
  });
  return finish(std::move(out), t, fmt::format("at {:.3g} req/s", t.hi));
}

RateSearch find_max_users(const Catalog& catalog, const Scenario& s, const PlanSlo& slo, const UsersSearchSettings& settings) {
  RateSearch out;
  const RateSearchSettings levels{static_cast<double>(settings.start_users), 1, static_cast<double>(settings.max_users),
                                  settings.tolerance_rel};
  const Threshold t = bracket_and_bisect(levels, true, [&](double users) {
    out.probes.push_back(run_users_probe(catalog, s, static_cast<std::int64_t>(users), 1, RouterPolicy::kRoundRobin, slo));
    return out.probes.back().met;
  });
  return finish(std::move(out), t, fmt::format("with {:g} users", t.hi));
}

std::optional<RateInterval> max_rate_prediction_interval(const RateSearch& /*search*/) { return std::nullopt; }

}  // namespace servetwin
