#pragma once
// Open-loop arrival processes: Poisson, gamma (given coefficient of variation) and constant rate.
// Inter-arrival gaps come from Boost.Random (portable); times are integer ns.
#include <string>

#include "sim/core/rng.hpp"
#include "sim/core/time.hpp"

namespace servetwin {

struct ArrivalSpec {
  std::string kind = "poisson";  // poisson | gamma | constant
  double rate_per_s = 1;
  double cv = 1;                 // gamma only: coefficient of variation of the gaps
};

// Parses "poisson", "constant" or "gamma:CV"; throws ConfigError otherwise.
ArrivalSpec parse_arrival(const std::string& text);

class ArrivalProcess {
 public:
  ArrivalProcess(ArrivalSpec spec, Rng rng);
  // Gap to the next arrival.
  TimeNs next_gap_ns();

 private:
  ArrivalSpec spec_;
  Rng rng_;
};

// The open-loop arrivals of a stage at spec.rate_per_s, from the stage's random stream
// (stage_stream_id): `predict` and `load` draw the same gaps for the same seed and rate.
ArrivalProcess stage_arrivals(const ArrivalSpec& spec, std::uint64_t seed);

}  // namespace servetwin
