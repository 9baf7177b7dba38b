#pragma once
// The CPU rehearsal of the microbenchmark suite: the same benchmark kinds and JSON schema as the
// CUDA binary (calibrate/cuda/), so `calibrate run --device cpu -> fit -> check` exercises the
// whole pipeline on machines without a GPU. fp32 (Eigen has no fast fp16 GEMM); single-threaded.
#include <string>
#include <vector>

#include "calibrate/core/calibration_data.hpp"
#include "calibrate/core/model_shapes.hpp"
#include "calibrate/core/stats.hpp"

namespace servetwin::calibrate {

struct CpuSuiteOptions {
  ModelGeometry geometry = tiny_geometry();  // calibrate run: from the catalog (catalog_hardware.hpp)
  int tp = 1;
  int m_min = 1, m_max = 256;        // GEMM token grid (log2 steps)
  int elementwise_m_max = 1024;
  bool lm_head = true;
  std::vector<double> mem_sizes_bytes{4e6, 16e6, 64e6};
  StopRule stop{5, 50, 0.01, 0.25};  // short: CI runs the suite in a few seconds
};

CalibrationData run_cpu_suite(const CpuSuiteOptions& options);

}  // namespace servetwin::calibrate
