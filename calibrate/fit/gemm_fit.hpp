#pragma once
// GEMM time model and its fit.
//
// General form (each extension off by default reproduces the cost model's form in
// sim/catalog/specs.hpp exactly):
//   eff(M)    = eff_max[op] * M / (M + m_half)                        (m_half = 0: flat plateau)
//   compute   = 2*M*N*K / (peak * eff(M))
//   memory    = bytes / (mem_bw * bw_eff),  bytes = 2*K*N (+ 2*(M*K + M*N) with activation_bytes)
//   t         = latency + max(compute, memory)
// The fit minimises the squared log error (relative error), so M = 1 and M = 4096 weigh the same.
#include <map>
#include <string>
#include <vector>

#include "calibrate/core/calibration_data.hpp"

namespace servetwin::calibrate {

struct GemmModel {
  double eff_max = 0.7;
  double m_half_tokens = 64;
  double bw_eff = 0.8;
  double latency_ns = 0;                      // fixed per-GEMM kernel time (launch-to-finish floor)
  bool activation_bytes = false;              // count A and C traffic in the memory term
  double elem_bytes = 2;                      // 2 for fp16/bf16 (GPU runs, published), 4 for fp32 (CPU suite)
  std::map<std::string, double> op_eff_max;   // per shape class (qkv, o, gate_up, down, lm_head)
  [[nodiscard]] double eff_for(const std::string& op) const;
  [[nodiscard]] double predict_ns(double m, double n, double k, double peak_flops, double mem_bw_bytes_s,
                                  const std::string& op = "") const;
  [[nodiscard]] double predict_ns(const GemmPoint& p, double peak_flops, double mem_bw_bytes_s) const;
};

struct GemmFitOptions {
  bool fit_m_half = true;       // else m_half = 0 (roofline with a flat compute plateau)
  bool fit_latency = false;     // fit the fixed per-GEMM latency (else 0)
  bool activation_bytes = false;
  bool per_op_eff = false;      // fit eff_max per shape class (else one eff_max)
  double elem_bytes = 2;
  // The cost model's form: m_half free, no latency, weight bytes only, one eff_max.
  static GemmFitOptions cost_model_form() { return {}; }
  // The recommended form (docs/calibration.md): latency + roofline with activation bytes.
  static GemmFitOptions recommended() { return {false, true, true, false, 2}; }
};

struct ErrorStats {
  std::size_t n = 0;
  double median_ape = 0, p90_ape = 0, max_ape = 0, mean_log_error = 0;  // APE as a fraction
  double m_min = 0, m_max = 0;
};

struct GemmFit {
  GemmModel model;
  GemmFitOptions options;
  ErrorStats in_sample;
};

GemmFit fit_gemm(const std::vector<GemmPoint>& points, double peak_flops, double mem_bw_bytes_s,
                 const GemmFitOptions& options = GemmFitOptions::recommended());
ErrorStats gemm_errors(const GemmModel& model, const std::vector<GemmPoint>& points, double peak_flops,
                       double mem_bw_bytes_s);

// Absolute percentage errors -> summary (shared by every fit's residual report).
ErrorStats summarize_errors(std::vector<double> ape);

}  // namespace servetwin::calibrate
