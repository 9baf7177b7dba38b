#pragma once
// GPU memory budget per GPU: total (driver-visible) minus CUDA context, weights, activation /
// workspace reserve; what is left holds the KV cache (and, for TGIS, the batch "weight").
#include <nlohmann/json.hpp>

namespace servetwin {

struct MemoryBudget {
  double gpu_memory_bytes = 0;      // driver-visible memory of one GPU
  double cuda_context_bytes = 0;    // CUDA context, cuBLAS/NCCL workspaces
  double weight_bytes = 0;          // this GPU's shard of the weights
  double activation_reserve_bytes = 0;  // peak activations of the largest forward pass / workspace
  double free_bytes = 0;            // what remains for the KV cache / batch weight (>= 0 when it fits)
  [[nodiscard]] bool fits() const { return free_bytes > 0; }
  [[nodiscard]] nlohmann::json to_json() const;
};

MemoryBudget compute_memory_budget(double gpu_memory_bytes, double cuda_context_bytes, double weight_bytes,
                                   double activation_reserve_bytes);

}  // namespace servetwin
