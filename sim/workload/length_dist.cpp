#include "sim/workload/length_dist.hpp"

#include <algorithm>
#include <boost/random/lognormal_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

std::int64_t draw_length(const LengthDist& d, Rng& rng) {
  double x = d.mean;
  if (d.kind == "normal") {
    x = boost::random::normal_distribution<double>(d.mean, d.stddev)(rng);
  } else if (d.kind == "uniform") {
    x = boost::random::uniform_real_distribution<double>(d.min, d.max)(rng);
  } else if (d.kind == "lognormal") {
    // Parameterised by the mean and stddev of the lengths themselves (not of the log).
    const double var = d.stddev * d.stddev;
    const double sigma2 = std::log1p(var / (d.mean * d.mean));
    const double mu = std::log(d.mean) - sigma2 / 2;
    x = boost::random::lognormal_distribution<double>(mu, std::sqrt(sigma2))(rng);
  }
  x = std::clamp(std::round(x), std::max(1.0, d.min), std::max(1.0, d.max));
  return static_cast<std::int64_t>(x);
}

void validate_length_dist(const LengthDist& d, const std::string& what) {
  const bool known = d.kind == "fixed" || d.kind == "normal" || d.kind == "uniform" || d.kind == "lognormal";
  if (!known) {
    throw ConfigError(what + ".kind: '" + d.kind + "' is not allowed; allowed: fixed, normal, uniform, lognormal");
  }
  if (d.min < 1 || d.max < d.min) throw ConfigError(what + ": need 1 <= min <= max");
  if (d.kind != "uniform" && d.mean < 1) throw ConfigError(what + ".mean: must be >= 1");
  if ((d.kind == "normal" || d.kind == "lognormal") && d.stddev < 0) throw ConfigError(what + ".stddev: must be >= 0");
}

}  // namespace servetwin
