#pragma once
// CalibrationData -> fitted HardwareProfile (+ everything the fit learned that the profile's fixed
// fields cannot hold: residuals, validity ranges, GEMM latency, all-reduce per TP), and the YAML
// the catalog loader reads (kind: hardware_profile; each Param with value, provenance, source;
// a free-form `fit:` mapping).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "calibrate/core/calibration_data.hpp"
#include "calibrate/core/model_shapes.hpp"
#include "calibrate/fit/allreduce_fit.hpp"
#include "calibrate/fit/gemm_fit.hpp"
#include "calibrate/published/published.hpp"
#include "sim/catalog/specs.hpp"

namespace servetwin::calibrate {

// t = latency + x / rate, fitted on relative error (NNLS on two unknowns).
struct LatencyRate {
  double latency_ns = 0;
  double rate = 0;          // x units per second (bytes/s or FLOP/s)
  ErrorStats errors;
  double x_min = 0, x_max = 0;
  std::size_t n = 0;
};
LatencyRate fit_latency_rate(const std::vector<double>& x, const std::vector<double>& t_ns);

struct ProfileFit {
  HardwareProfile profile;
  double peak_fp16_flops = 0, mem_bw_bytes_s = 0;
  std::string peak_source;
  bool has_gemm = false;
  GemmFit gemm;
  ErrorStats gemm_cost_model_form;  // residuals if the cost model's current form were used instead
  GemmFit gemm_cost_model_fit;
  bool has_elementwise = false, has_prefill = false, has_decode = false, has_copy = false;
  LatencyRate elementwise, prefill, decode, copy;
  std::map<std::string, std::map<int, AllReduceModel>> allreduce;  // system -> TP -> model
  std::vector<std::string> sources, notes;
  std::vector<std::string> splitwise_lines;  // end-to-end decode check (see splitwise_decode_check)
  std::string device_kind, device_name, date_utc, dtype;
};

struct ProfileFitOptions {
  std::string name;            // profile name (defaults to the device's catalog GPU or name)
  double peak_fp16_flops = 0;  // overrides the data's peaks when > 0
  double mem_bw_bytes_s = 0;
};

ProfileFit fit_profile(const CalibrationData& data, const ProfileFitOptions& options = {});

// End-to-end sanity check against Splitwise's vLLM measurements (perf_model.csv): predicts the
// per-token decode time of Llama-2-70B at each TP and batch from the fitted kernels (GEMMs with
// latency, decode attention at the mean context, elementwise, 2 all-reduces per layer, LM head,
// layer_overhead_ns) and records measured - predicted. The residual is engine time (vLLM, 2023:
// Python scheduling, sampling, sync), reported in fit.splitwise_decode, not put into the hardware
// profile. `hardware` is Splitwise's name ("a100-80gb", "h100-80gb").
void splitwise_decode_check(ProfileFit& fit, const std::vector<SplitwiseRow>& rows, const std::string& hardware,
                            const ModelGeometry& llama2_70b);
std::string profile_yaml(const ProfileFit& fit);
void write_profile(const ProfileFit& fit, const std::filesystem::path& path);

// Reads back a profile written by write_profile (HardwareProfile fields plus the fit extras the
// prediction check needs: peaks and GEMM latency). Throws ConfigError on a malformed file.
struct LoadedProfile {
  HardwareProfile profile;
  double peak_fp16_flops = 0, mem_bw_bytes_s = 0, gemm_latency_ns = 0, elem_bytes = 2, elementwise_latency_ns = 0;
};
LoadedProfile load_profile(const std::filesystem::path& path);

// Predicted-vs-measured for every GEMM and bandwidth point in `data` under a profile, with the
// cost-model form plus the GEMM latency. Returns one line per point class and the summary.
struct CheckResult {
  ErrorStats gemm, elementwise;
  std::vector<std::string> lines;
};
CheckResult check_profile(const LoadedProfile& profile, const CalibrationData& data);

}  // namespace servetwin::calibrate
