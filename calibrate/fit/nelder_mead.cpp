#include "calibrate/fit/nelder_mead.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace servetwin::calibrate {

MinimizeResult nelder_mead(const std::function<double(const std::vector<double>&)>& f, const std::vector<double>& x0,
                           double initial_step, int max_iterations, double tolerance) {
  const std::size_t n = x0.size();
  std::vector<std::vector<double>> pts(n + 1, x0);
  for (std::size_t i = 0; i < n; ++i) pts[i + 1][i] += initial_step;
  std::vector<double> vals(n + 1);
  for (std::size_t i = 0; i <= n; ++i) vals[i] = f(pts[i]);
  std::vector<std::size_t> order(n + 1);
  int it = 0;
  for (; it < max_iterations; ++it) {
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return vals[a] < vals[b]; });
    const std::size_t best = order.front(), worst = order.back(), second = order[n - 1];
    if (std::abs(vals[worst] - vals[best]) <= tolerance * (std::abs(vals[best]) + 1e-30)) break;
    std::vector<double> centroid(n, 0.0);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t d = 0; d < n; ++d) centroid[d] += pts[order[i]][d] / static_cast<double>(n);
    auto along = [&](double t) {
      std::vector<double> p(n);
      for (std::size_t d = 0; d < n; ++d) p[d] = centroid[d] + t * (pts[worst][d] - centroid[d]);
      return p;
    };
    const auto xr = along(-1.0);
    const double fr = f(xr);
    if (fr < vals[best]) {
      const auto xe = along(-2.0);
      const double fe = f(xe);
      if (fe < fr) {
        pts[worst] = xe;
        vals[worst] = fe;
      } else {
        pts[worst] = xr;
        vals[worst] = fr;
      }
    } else if (fr < vals[second]) {
      pts[worst] = xr;
      vals[worst] = fr;
    } else {
      const auto xc = along(fr < vals[worst] ? -0.5 : 0.5);
      const double fc = f(xc);
      if (fc < std::min(fr, vals[worst])) {
        pts[worst] = xc;
        vals[worst] = fc;
      } else {  // shrink towards the best point
        for (std::size_t i = 0; i <= n; ++i) {
          if (i == best) continue;
          for (std::size_t d = 0; d < n; ++d) pts[i][d] = pts[best][d] + 0.5 * (pts[i][d] - pts[best][d]);
          vals[i] = f(pts[i]);
        }
      }
    }
  }
  const auto best_it = std::min_element(vals.begin(), vals.end());
  return {pts[static_cast<std::size_t>(best_it - vals.begin())], *best_it, it};
}

}  // namespace servetwin::calibrate
