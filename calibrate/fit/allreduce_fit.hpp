#pragma once
// All-reduce cost per TP degree, in the nccl-tests bus-bandwidth convention:
//   t(bytes) = max(floor_ns, latency_ns + 2(n-1)/n * bytes / bus_bw)
// The cost model's form is the floor-free one (interconnect YAML: latency_ns, bus_bw_bytes_s); the
// floor is there because published kernel timings (Vidur) are flat at 30-60 us up to a few MB, and
// an alpha-beta line through that plateau gets the slope wrong. Fit per rank count: a weighted
// least-squares start (weights 1/t^2, i.e. relative error; NNLS on two unknowns: a negative
// latency is pinned to 0 and the bandwidth refitted), then a simplex search on squared log error; that
// gives the floor. The line (latency, bandwidth) is then refitted on the bandwidth regime alone: the
// lower envelope of the times above the last NCCL protocol step (LL -> LL128/Simple), so that it
// extrapolates to larger messages (docs/calibration.md, "All-reduce").
#include <map>
#include <vector>

#include "calibrate/core/calibration_data.hpp"
#include "calibrate/fit/gemm_fit.hpp"

namespace servetwin::calibrate {

struct AllReduceModel {
  int n = 0;
  double latency_ns = 0;
  double bus_bw_bytes_s = 0;
  double floor_ns = 0;                  // 0 = no floor (the cost model's form)
  double min_bytes = 0, max_bytes = 0;  // range of the sizes fitted on
  ErrorStats in_sample;
  [[nodiscard]] double predict_ns(double bytes) const;
};

// One model per rank count present in `points` (optionally only sizes within [min_bytes, max_bytes]).
std::map<int, AllReduceModel> fit_allreduce(const std::vector<CollectivePoint>& points, double min_bytes = 0,
                                            double max_bytes = 1e300, bool with_floor = true);
ErrorStats allreduce_errors(const AllReduceModel& m, const std::vector<CollectivePoint>& points, double min_bytes,
                            double max_bytes);

}  // namespace servetwin::calibrate
