#pragma once
// Derivative-free minimiser for the small (2-4 parameter) nonlinear fits here. The GEMM model has a
// max() kink, so gradient methods are awkward; a simplex search with restarts is robust and, for a
// few hundred points, instant.
#include <functional>
#include <vector>

namespace servetwin::calibrate {

struct MinimizeResult {
  std::vector<double> x;
  double value = 0;
  int iterations = 0;
};

MinimizeResult nelder_mead(const std::function<double(const std::vector<double>&)>& f, const std::vector<double>& x0,
                           double initial_step = 0.3, int max_iterations = 4000, double tolerance = 1e-12);

}  // namespace servetwin::calibrate
