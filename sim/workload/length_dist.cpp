#include "sim/workload/length_dist.hpp"

#include <algorithm>
#include <boost/random/lognormal_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_real_distribution.hpp>
#include <cmath>

#include "sim/catalog/catalog.hpp"
#include "sim/core/limits.hpp"
#include "sim/core/parse_number.hpp"

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

nlohmann::json length_dist_json(const LengthDist& d) {
  return nlohmann::json{{"dist", d.kind}, {"mean", d.mean}, {"stddev", d.stddev}, {"min", d.min}, {"max", d.max}};
}

LengthDist parse_length_dist(const std::string& text, const std::string& option) {
  const auto bad = [&](const std::string& why) {
    return ConfigError(option + " '" + text + "': " + why + "; allowed: " + kLengthDistForms);
  };
  const auto token_count = [&](std::string_view part) {
    double v = 0;
    if (!parse_finite_double(part, v)) throw bad("'" + std::string(part) + "' is not a number");
    if (!limit_violation(v, limits::kTokensPerRequest).empty()) {
      throw bad("'" + std::string(part) + "' must be " + describe_limit(limits::kTokensPerRequest));
    }
    return v;
  };
  LengthDist d;
  const auto colon = text.find(':');
  if (colon == std::string::npos) {
    std::int64_t n = 0;
    if (!parse_int64(text, n)) throw bad("not a whole token count");
    d.mean = token_count(text);
    return d;
  }
  d.kind = text.substr(0, colon);
  const std::string args = text.substr(colon + 1);
  const auto comma = args.find(',');
  if (d.kind != "normal" && d.kind != "uniform" && d.kind != "lognormal") throw bad("unknown distribution '" + d.kind + "'");
  if (comma == std::string::npos) throw bad(d.kind + " needs two numbers separated by a comma");
  const double a = token_count(std::string_view(args).substr(0, comma));
  const std::string second = args.substr(comma + 1);
  double b = 0;
  if (!parse_finite_double(second, b) || b < 0) throw bad("'" + second + "' is not a number >= 0");
  if (d.kind == "uniform") {
    if (b < a) throw bad("uniform needs MIN <= MAX");
    d.min = a;
    d.max = token_count(second);
    d.mean = (a + d.max) / 2;
  } else {
    d.mean = a;
    d.stddev = b;
  }
  return d;
}

}  // namespace servetwin
