#pragma once
// Maximum sustainable rate of one replica under an SLO: the largest open-loop request rate whose
// simulated stage meets it. The simulator is deterministic, so the search brackets the threshold by
// doubling (or halving) from a start rate, then bisects until hi - lo <= tolerance * lo: the reported
// rate `lo` met the SLO, `hi` did not, so the true threshold lies within the stated relative tolerance
// (assuming the SLO holds below it, which the brute-force grid test checks on a case).
#include <optional>
#include <string>
#include <vector>

#include "sim/plan/rate_probe.hpp"

namespace servetwin {

struct RateSearchSettings {
  double start_rate_per_s = 1;
  double min_rate_per_s = 0.01;   // below this the SLO counts as "not met at any load"
  double max_rate_per_s = 1000;   // above this the search stops and reports the cap
  double tolerance_rel = 0.05;
};

struct RateSearch {
  bool found = false;           // some rate >= min_rate_per_s meets the SLO
  bool capped = false;          // the SLO still held at max_rate_per_s
  double max_rate_per_s = 0;    // lo: met
  double fail_rate_per_s = 0;   // hi: failed (0 when capped)
  std::string reason;           // why not found: the violations at the lowest rate tried
  std::vector<Probe> probes;    // every point simulated, in order
};

RateSearch find_max_rate(const Catalog& catalog, const Scenario& s, const PlanSlo& slo, const RateSearchSettings& settings);

// `plan --users`: the most closed-loop users one replica serves within the SLO, by the same bracket
// (doubling from start_users) and bisection on whole numbers, until fail - met <= max(1, tolerance x met).
// The result reuses RateSearch with users in place of rates: max_rate_per_s = users met,
// fail_rate_per_s = users failed.
struct UsersSearchSettings {
  std::int64_t start_users = 1;
  std::int64_t max_users = 1024;  // above this the search stops and reports the cap
  double tolerance_rel = 0.05;
};
RateSearch find_max_users(const Catalog& catalog, const Scenario& s, const PlanSlo& slo, const UsersSearchSettings& settings);

// Hook for the prediction interval of the maximum rate, to come from the fidelity work (issue 17).
// Until then there is no interval: nullopt, and outputs say "not available" rather than invent one.
struct RateInterval {
  double low_per_s = 0, high_per_s = 0;
};
std::optional<RateInterval> max_rate_prediction_interval(const RateSearch& search);

}  // namespace servetwin
