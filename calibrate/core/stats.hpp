#pragma once
// Sample statistics and the noise-based stop rule shared by the CPU suite and the CUDA binary.
// Header-only and C++17 so that nvcc (CUDA_STANDARD 17) compiles it too.
//
// Stop rule (our own, looser than nvbench's): a benchmark keeps taking timed samples until the
// relative standard error of the mean, stddev / (mean * sqrt(n)), falls below `max_noise`, with at
// least `min_samples` and at most `max_samples` samples and a wall-time cap; the reported figure is
// the median, with IQR and CV beside it.
// nvbench's default "stdrel" criterion differs: it stops once at least `min-time` (0.5 s) of measured
// time has accumulated and the relative standard deviation of the samples, stddev / mean (no
// sqrt(n)), is below `max-noise` (0.5 %), or, for inherently noisy kernels, once that relative
// standard deviation has itself settled (checked every 16 samples after 64: its spread over a trailing window of
// recorded values is under 5 % of the current value). Dividing by sqrt(n) makes our threshold
// sqrt(n) times easier to meet (about 3x at 10 samples, 14x at 200), so our medians carry more
// sample noise than an nvbench run at the same `max_noise` would; the IQR and CV we report show it.
// Source: NVIDIA/nvbench nvbench/detail/stdrel_criterion.cxx (read 2026-12-06, no code copied).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "sim/metrics/percentile.hpp"

namespace servetwin::calibrate {

struct SampleStats {
  double median = 0, q1 = 0, q3 = 0, iqr = 0, mean = 0, stddev = 0, cv = 0, min = 0, max = 0;
  std::size_t n = 0;
};

// Quantiles come from the project's one percentile, servetwin::percentile_sorted
// (sim/metrics/percentile.hpp: type 7, linear interpolation), so q1/q3 are stable for the small
// sample counts we take.

inline SampleStats summarize(std::vector<double> v) {
  SampleStats st;
  st.n = v.size();
  if (v.empty()) return st;
  std::sort(v.begin(), v.end());
  st.median = percentile_sorted(v, 0.5);
  st.q1 = percentile_sorted(v, 0.25);
  st.q3 = percentile_sorted(v, 0.75);
  st.iqr = st.q3 - st.q1;
  st.min = v.front();
  st.max = v.back();
  double sum = 0;
  for (double x : v) sum += x;
  st.mean = sum / static_cast<double>(v.size());
  double ss = 0;
  for (double x : v) ss += (x - st.mean) * (x - st.mean);
  st.stddev = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0;
  st.cv = st.mean > 0 ? st.stddev / st.mean : 0;
  return st;
}

struct StopRule {
  std::size_t min_samples = 10;
  std::size_t max_samples = 200;
  double max_noise = 0.005;       // relative standard error of the mean
  double max_seconds = 1.0;       // wall-time cap per benchmark point
};

// True when enough samples have been taken: the noise criterion is met, or a cap is hit.
inline bool should_stop(const std::vector<double>& samples, double elapsed_seconds, const StopRule& rule) {
  if (samples.size() >= rule.max_samples) return true;
  if (elapsed_seconds >= rule.max_seconds && samples.size() >= 3) return true;
  if (samples.size() < rule.min_samples) return false;
  const SampleStats st = summarize(samples);
  const double rel_sem = st.mean > 0 ? st.stddev / st.mean / std::sqrt(static_cast<double>(st.n)) : 0;
  return rel_sem < rule.max_noise;
}

}  // namespace servetwin::calibrate
