#include "sim/cost/weight_datapath.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

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

std::string weight_dtypes_on(const GpuSpec& gpu) {
  std::string out = "fp16, bf16";
  if (gpu.peak_fp8_flops > 0) out += ", fp8";
  if (gpu.peak_fp4_flops > 0) out += ", fp4";
  return out;
}

WeightDatapath weight_datapath(const GpuSpec& gpu, const std::string& dtype) {
  if (dtype == "fp16" || dtype == "bf16") return {2.0, gpu.peak_fp16_flops};
  const auto& all = weight_dtypes();
  if (std::find(all.begin(), all.end(), dtype) == all.end()) {
    throw ConfigError(fmt::format("dtype: '{}' is not allowed; allowed: {}", dtype, fmt::join(all, ", ")));
  }
  const double peak = dtype == "fp8" ? gpu.peak_fp8_flops : gpu.peak_fp4_flops;
  if (peak <= 0) {
    throw ConfigError(fmt::format("dtype: {} is not supported on {} (no {} tensor cores); allowed: {}", dtype,
                                  gpu.name, dtype == "fp8" ? "FP8" : "FP4", weight_dtypes_on(gpu)));
  }
  return {dtype == "fp8" ? 1.0 : kNvfp4BytesPerElement, peak};
}

}  // namespace servetwin
