#include "sim/workload/arrivals.hpp"

#include <boost/random/exponential_distribution.hpp>
#include <boost/random/gamma_distribution.hpp>

#include "sim/catalog/catalog.hpp"
#include "sim/workload/request_source.hpp"

namespace servetwin {

ArrivalSpec parse_arrival(const std::string& text) {
  ArrivalSpec a;
  if (text == "poisson" || text == "constant") {
    a.kind = text;
    return a;
  }
  if (text.rfind("gamma:", 0) == 0) {
    a.kind = "gamma";
    try {
      a.cv = std::stod(text.substr(6));
    } catch (const std::exception&) {
      a.cv = -1;
    }
    if (!(a.cv > 0)) throw ConfigError("--arrival " + text + ": CV must be a number > 0, e.g. gamma:2");
    return a;
  }
  throw ConfigError("--arrival '" + text + "' is not allowed; allowed: poisson, constant, gamma:CV");
}

ArrivalProcess::ArrivalProcess(ArrivalSpec spec, Rng rng) : spec_(std::move(spec)), rng_(std::move(rng)) {
  if (!(spec_.rate_per_s > 0)) throw ConfigError("arrival rate must be > 0 requests/s");
}

TimeNs ArrivalProcess::next_gap_ns() {
  const double mean_s = 1.0 / spec_.rate_per_s;
  double gap_s = mean_s;
  if (spec_.kind == "poisson") {
    gap_s = boost::random::exponential_distribution<double>(spec_.rate_per_s)(rng_);
  } else if (spec_.kind == "gamma") {
    // Gamma gaps with mean 1/rate and CV: shape k = 1/CV^2, scale = mean/k.
    const double k = 1.0 / (spec_.cv * spec_.cv);
    gap_s = boost::random::gamma_distribution<double>(k, mean_s / k)(rng_);
  }
  return seconds_to_ns(gap_s);
}

ArrivalProcess stage_arrivals(const ArrivalSpec& spec, std::uint64_t seed) {
  return {spec, make_rng(seed, "arrivals", static_cast<std::uint64_t>(stage_stream_id(spec.rate_per_s)))};
}

}  // namespace servetwin
