#pragma once
// The one percentile of the project (sim metrics, validate's error medians, calibrate's sample
// statistics and fit errors): linear interpolation between the two nearest ranks of sorted data
// (Hyndman-Fan type 7, numpy's default), so p50 of an even count is the mean of the middle two and
// small sample counts give stable quartiles. Header-only and C++17 so that nvcc (calibrate's CUDA
// binary) compiles it too.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace servetwin {

// q in [0, 1] of `sorted` (ascending); 0 for no data.
inline double percentile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

// The same of unsorted values (sorts a copy).
inline double percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return percentile_sorted(values, q);
}

// The median as textbook-defined: the middle value, or half the sum of the middle two. Equal to
// percentile(v, 0.5) but for rounding (0.5 * (a + b) vs a + (b - a) * 0.5 may differ in the last bit);
// validate's error medians were always computed this way and their reports are kept byte-identical.
inline double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

}  // namespace servetwin
