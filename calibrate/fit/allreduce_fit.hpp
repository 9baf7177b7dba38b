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
//
// On a switched NVLink fabric (every GPU pair on NVLink, e.g. a DGX) a second line can be added per TP
// degree n > 2: the Simple protocol's. There, NCCL runs LL128 at mid sizes for n > 2 and changes to
// Simple only at larger sizes, so sizes <= a few MB never show Simple's bus bandwidth for n > 2. The 2-rank
// fit does (in NCCL's ring latency table Simple's per-hop cost matters least at 2 ranks; version caveat in
// docs/calibration.md), and bus bandwidth is a property of the links, independent of the rank count
// (nccl-tests' busbw convention). So
//   t(bytes) = max(floor_ns, min(latency_ns + f * bytes / bus_bw, simple_latency_ns + f * bytes / simple_bus_bw))
// with simple_bus_bw the 2-rank line's bandwidth and simple_latency_ns the least latency for which the
// Simple line is nowhere faster than the fitted line within the fitted sizes (NCCL chose the fitted
// protocol there). Details and sources: docs/calibration.md, "All-reduce".
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
  // Large-message (Simple protocol) line; simple_bus_bw_bytes_s = 0: none (one line at every size).
  double simple_latency_ns = 0;
  double simple_bus_bw_bytes_s = 0;
  double min_bytes = 0, max_bytes = 0;  // range of the sizes fitted on
  ErrorStats in_sample;
  [[nodiscard]] double predict_ns(double bytes) const;
};

// One model per rank count present in `points` (optionally only sizes within [min_bytes, max_bytes]).
// `switched_nvlink`: all points come from one system whose GPUs all meet on one NVLink fabric
// (NVSwitch), which enables the Simple-protocol line above. Leave it false for PCIe systems and for
// pairwise-NVLink boxes (there an n > 2 ring crosses PCIe, so its bus bandwidth is not the 2-rank one).
std::map<int, AllReduceModel> fit_allreduce(const std::vector<CollectivePoint>& points, double min_bytes = 0,
                                            double max_bytes = 1e300, bool with_floor = true,
                                            bool switched_nvlink = false);
ErrorStats allreduce_errors(const AllReduceModel& m, const std::vector<CollectivePoint>& points, double min_bytes,
                            double max_bytes);

}  // namespace servetwin::calibrate
