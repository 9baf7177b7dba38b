#pragma once
// The weights' datapath of a deployment dtype on a GPU: bytes per stored weight element and the dense
// tensor peak its GEMMs run at. One place for every dtype the cost model knows, so the cost model, the
// roofline check and the deployment checks agree on what each GPU can run.
#include <string>
#include <vector>

#include "sim/catalog/specs.hpp"

namespace servetwin {

struct WeightDatapath {
  double elem_bytes = 2;   // stored bytes per weight element, block scales included
  double peak_flops = 0;   // dense tensor peak of the GEMMs on these weights
};

// Every dtype the cost model has a datapath for (fp16, bf16, fp8, fp4).
const std::vector<std::string>& weight_dtypes();

// Whether `gpu` has tensor cores for `dtype` (always for fp16/bf16; never for a dtype not in weight_dtypes()).
bool gpu_runs_dtype(const GpuSpec& gpu, const std::string& dtype);

// The dtypes `gpu` has tensor cores for ("fp16, bf16[, fp8][, fp4]").
std::string weight_dtypes_on(const GpuSpec& gpu);

// "FP8", "FP4": how a dtype names its tensor cores in messages.
std::string tensor_core_name(const std::string& dtype);

// The datapath of `dtype` on `gpu`. Throws ConfigError naming the dtype and the allowed values when the
// dtype is unknown or the GPU has no tensor cores for it.
WeightDatapath weight_datapath(const GpuSpec& gpu, const std::string& dtype);

}  // namespace servetwin
