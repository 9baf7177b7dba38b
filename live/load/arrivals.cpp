#include "live/load/arrivals.hpp"

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/gamma_distribution.hpp>
#include <stdexcept>

namespace servetwin::live {

ArrivalSpec parse_arrival(const std::string& s) {
  ArrivalSpec a;
  if (s == "poisson") {
    a.kind = ArrivalSpec::Kind::kPoisson;
  } else if (s == "constant") {
    a.kind = ArrivalSpec::Kind::kConstant;
  } else if (s.rfind("gamma:", 0) == 0) {
    a.kind = ArrivalSpec::Kind::kGamma;
    try {
      a.gamma_cv = std::stod(s.substr(6));
    } catch (const std::exception&) {
      throw std::invalid_argument("bad --arrival '" + s + "' (gamma:CV needs a number, e.g. gamma:2)");
    }
    if (!(a.gamma_cv > 0)) throw std::invalid_argument("bad --arrival '" + s + "': CV must be > 0");
  } else {
    throw std::invalid_argument("unknown --arrival '" + s + "' (allowed: poisson, constant, gamma:CV)");
  }
  return a;
}

std::string to_string(const ArrivalSpec& a) {
  switch (a.kind) {
    case ArrivalSpec::Kind::kPoisson: return "poisson";
    case ArrivalSpec::Kind::kConstant: return "constant";
    case ArrivalSpec::Kind::kGamma: return "gamma:" + std::to_string(a.gamma_cv);
  }
  return "?";
}

ArrivalGenerator::ArrivalGenerator(ArrivalSpec spec, double rate_per_s, std::uint64_t seed, std::uint64_t stage)
    : spec_(spec), rate_per_s_(rate_per_s), rng_(make_rng(seed, "arrivals", stage)) {
  if (!(rate_per_s > 0)) throw std::invalid_argument("arrival rate must be > 0");
}

TimeNs ArrivalGenerator::next_gap_ns() {
  double gap_s = 0;
  switch (spec_.kind) {
    case ArrivalSpec::Kind::kConstant: gap_s = 1.0 / rate_per_s_; break;
    case ArrivalSpec::Kind::kPoisson: {
      boost::random::exponential_distribution<double> d(rate_per_s_);
      gap_s = d(rng_);
      break;
    }
    case ArrivalSpec::Kind::kGamma: {
      // Gamma gaps with mean 1/rate and CV c: shape k = 1/c^2, scale = 1/(rate k).
      const double k = 1.0 / (spec_.gamma_cv * spec_.gamma_cv);
      boost::random::gamma_distribution<double> d(k, 1.0 / (rate_per_s_ * k));
      gap_s = d(rng_);
      break;
    }
  }
  return seconds_to_ns(gap_s);
}

}  // namespace servetwin::live
