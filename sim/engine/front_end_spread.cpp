#include "sim/engine/front_end_spread.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "sim/catalog/catalog.hpp"
#include "sim/core/rng.hpp"

namespace servetwin {

FrontEndSpread FrontEndSpread::parse(const std::string& ratios, const std::string& key) {
  std::vector<double> values;
  std::stringstream in(ratios);
  std::string cell;
  while (std::getline(in, cell, ',')) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(cell, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    while (used < cell.size() && cell[used] == ' ') ++used;
    if (used == 0 || used != cell.size() || !std::isfinite(v) || v <= 0 || v > 100) {
      throw ConfigError(fmt::format("{}: '{}' is not a ratio; allowed: comma-separated numbers in (0, 100], at least 3", key, cell));
    }
    values.push_back(v);
  }
  if (values.size() < 3) throw ConfigError(key + ": needs at least 3 comma-separated ratios (got " + std::to_string(values.size()) + ")");
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
