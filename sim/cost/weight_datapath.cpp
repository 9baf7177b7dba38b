#include "sim/cost/weight_datapath.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>

#include "sim/catalog/catalog.hpp"

namespace servetwin {
namespace {

// NVFP4 (ModelOpt's FP4 checkpoints, hf_quant_config "quant_algo": "NVFP4", "group_size": 16): a 4-bit
// E2M1 value per weight plus one FP8 E4M3 scale per 16 of them, 0.5 + 1/16 bytes per element. The
// per-tensor FP32 scale is negligible.
constexpr double kNvfp4BytesPerElement = 0.5 + 1.0 / 16.0;

}  // namespace

const std::vector<std::string>& weight_dtypes() {
  static const std::vector<std::string> dtypes{"fp16", "bf16", "fp8", "fp4"};
  return dtypes;
}

bool gpu_runs_dtype(const GpuSpec& gpu, const std::string& dtype) {
  if (dtype == "fp16" || dtype == "bf16") return true;
  if (dtype == "fp8") return gpu.peak_fp8_flops > 0;
  if (dtype == "fp4") return gpu.peak_fp4_flops > 0;
  return false;
}

std::string weight_dtypes_on(const GpuSpec& gpu) {
  std::vector<std::string> on;
  for (const auto& d : weight_dtypes()) {
    if (gpu_runs_dtype(gpu, d)) on.push_back(d);
  }
  return fmt::format("{}", fmt::join(on, ", "));
}

std::string tensor_core_name(const std::string& dtype) {
  std::string out = dtype;
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

WeightDatapath weight_datapath(const GpuSpec& gpu, const std::string& dtype) {
  const auto& all = weight_dtypes();
  if (std::find(all.begin(), all.end(), dtype) == all.end()) {
    throw ConfigError(fmt::format("dtype: '{}' is not allowed; allowed: {}", dtype, fmt::join(all, ", ")));
  }
  if (!gpu_runs_dtype(gpu, dtype)) {
    throw ConfigError(fmt::format("dtype: {} is not supported on {} (no {} tensor cores); allowed: {}", dtype,
                                  gpu.name, tensor_core_name(dtype), weight_dtypes_on(gpu)));
  }
  if (dtype == "fp8") return {1.0, gpu.peak_fp8_flops};
  if (dtype == "fp4") return {kNvfp4BytesPerElement, gpu.peak_fp4_flops};
  return {2.0, gpu.peak_fp16_flops};
}

}  // namespace servetwin
