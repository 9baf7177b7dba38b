#include "sim/kv/memory_model.hpp"

namespace servetwin {

MemoryBudget compute_memory_budget(double gpu_memory_bytes, double cuda_context_bytes, double weight_bytes,
                                   double activation_reserve_bytes) {
  MemoryBudget b;
  b.gpu_memory_bytes = gpu_memory_bytes;
  b.cuda_context_bytes = cuda_context_bytes;
  b.weight_bytes = weight_bytes;
  b.activation_reserve_bytes = activation_reserve_bytes;
  b.free_bytes = gpu_memory_bytes - cuda_context_bytes - weight_bytes - activation_reserve_bytes;
  return b;
}

nlohmann::json MemoryBudget::to_json() const {
  return {{"gpu_memory_bytes", gpu_memory_bytes},
          {"cuda_context_bytes", cuda_context_bytes},
          {"weight_bytes", weight_bytes},
          {"activation_reserve_bytes", activation_reserve_bytes},
          {"free_bytes", free_bytes}};
}

}  // namespace servetwin
