#pragma once
// Host-side cost of one decoder layer in an eager (no CUDA graph) PyTorch serving engine: TGIS, TGI 1.x,
// vLLM <= 0.2. Each layer's forward is a fixed sequence of Python-level operations (module calls that
// dispatch one torch op, most launching one kernel); the host issues them one by one, and the GPU can
// run no faster than they arrive. The cost is (operations per layer, from the architecture) x (host
// time per operation, from the instance's host CPU) + (all-reduce calls per layer) x (host time of one
// torch.distributed NCCL call). CUDA-graph engines replay captured kernels and pay none of it.
//
// What is counted (docs/cost-model.md "Eager execution" lists every operation and its source):
//  - attention block: fused residual-add + norm (kernel + output allocation), QKV GEMM, three q/k/v
//    views, rotary embedding (models with rotary positions), KV-cache write, attention (kernel + output
//    allocation), output projection;
//  - dense MLP block: fused residual-add + norm (2), then gate/up GEMM, fused SiLU-and-mul (kernel +
//    allocation), down GEMM (gated MLP), or fc1, activation, fc2 (plain MLP);
//  - MoE MLP block: norm (2), router GEMM, softmax, top-k, renormalisation (sum, divide), then per expert
//    the tokens route to: token selection (2), w1, w3, activation, multiply, w2, weighted accumulate;
//    shared experts as a dense gated MLP each;
//  - under TP: two all-reduces (attention output, MLP output), each a torch.distributed call.
#include "sim/catalog/specs.hpp"

namespace servetwin {

// Host time of one torch.distributed NCCL all-reduce call beyond its Python-level operation: Vidur's
// nccl_cpu_launch_overhead_ms default of 0.02 ms (microsoft/vidur, vidur/config/config.py, the execution-time
// predictor config; its simulator adds it to every TP all-reduce). Overridable: engine setting allreduce_host_ns.
inline constexpr double kNcclCallHostNs = 20'000;

// Host-side operations of one average decoder layer for a step of `tokens` tokens at this TP degree.
struct EagerLayerOps {
  double host_ops = 0;     // Python-level operations dispatched (views and allocations included)
  double kernels = 0;      // of which launch a GPU kernel (all-reduces excluded)
  double allreduces = 0;   // torch.distributed all-reduce calls (0 at TP1)
};

// Host costs of the platform: per operation, and per NCCL all-reduce call on top of its operation.
struct EagerHostCosts {
  double host_op_ns = 0;
  double allreduce_host_ns = 0;
  [[nodiscard]] bool enabled() const { return host_op_ns > 0; }
};

// Operations per decoder layer. MoE layers visit the experts the step's tokens route to (the expected
// number of distinct experts among `tokens` tokens each picking experts_per_token of num_experts);
// interleaved MoE models average MoE and dense layers by moe_layer_fraction().
[[nodiscard]] EagerLayerOps eager_layer_ops(const ModelSpec& model, int tp, double tokens);

// Host time to dispatch one average decoder layer (0 when `costs` is disabled).
[[nodiscard]] double eager_layer_dispatch_ns(const ModelSpec& model, int tp, double tokens, const EagerHostCosts& costs);

}  // namespace servetwin
