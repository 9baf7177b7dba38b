#pragma once
// Open-loop arrival processes with seeded, portable (Boost.Random) gaps.
#include <cstdint>
#include <string>

#include "sim/core/rng.hpp"
#include "sim/core/time.hpp"

namespace servetwin::live {

struct ArrivalSpec {
  enum class Kind { kPoisson, kConstant, kGamma } kind = Kind::kPoisson;
  double gamma_cv = 1.0;  // coefficient of variation of the gaps (gamma only; 1 = Poisson)
};
// "poisson" | "constant" | "gamma:CV" (CV > 0). Throws std::invalid_argument.
ArrivalSpec parse_arrival(const std::string& s);
std::string to_string(const ArrivalSpec& a);

// Gaps between arrivals at `rate_per_s`, mean 1/rate. Stream make_rng(seed, "arrivals", stage).
class ArrivalGenerator {
 public:
  ArrivalGenerator(ArrivalSpec spec, double rate_per_s, std::uint64_t seed, std::uint64_t stage);
  TimeNs next_gap_ns();

 private:
  ArrivalSpec spec_;
  double rate_per_s_;
  Rng rng_;
};

}  // namespace servetwin::live
