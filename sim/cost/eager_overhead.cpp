#include "sim/cost/eager_overhead.hpp"

#include <algorithm>
#include <cmath>

namespace servetwin {
namespace {

// Attention block, in host operations and kernels (see the header for the list).
constexpr double kNormOps = 2, kNormKernels = 1;          // fused residual-add + norm, output allocation
constexpr double kQkvViewOps = 3;                         // q, k, v views of the fused QKV output
constexpr double kAttentionOps = 2, kAttentionKernels = 1;  // kernel + output allocation
// Dense MLP blocks.
constexpr double kGatedMlpOps = 4, kGatedMlpKernels = 3;  // gate/up GEMM, SiLU-and-mul (+ allocation), down
constexpr double kPlainMlpOps = 3, kPlainMlpKernels = 3;  // fc1, activation, fc2
// MoE MLP block.
constexpr double kRouterOps = 5;                          // router GEMM, softmax, top-k, sum, divide
constexpr double kExpertOps = 8, kExpertKernels = 7;      // select tokens (2: mask + gather), w1, w3, act, mul, w2, accumulate

// Families whose position encoding is not rotary (learned positions or ALiBi): no rotary kernel.
bool has_rotary(const ModelSpec& m) { return m.family != "opt" && m.family != "bloom"; }

double expected_experts_touched(const ModelSpec& m, double tokens) {
  const double e = m.num_experts, k = m.experts_per_token;
  return e * (1 - std::pow(1 - k / e, std::max(1.0, tokens)));
}

}  // namespace

EagerLayerOps eager_layer_ops(const ModelSpec& model, int tp, double tokens) {
  EagerLayerOps ops;
  const double rotary = has_rotary(model) ? 1 : 0;
  // Attention block: norm, QKV GEMM, views, rotary, KV-cache write, attention, output projection.
  ops.host_ops = kNormOps + 1 + kQkvViewOps + rotary + 1 + kAttentionOps + 1;
  ops.kernels = kNormKernels + 1 + rotary + 1 + kAttentionKernels + 1;
  // MLP block: norm, then the dense MLP or the MoE block (interleaved MoE models average the two).
  ops.host_ops += kNormOps;
  ops.kernels += kNormKernels;
  const double dense_ops = model.gated_mlp ? kGatedMlpOps : kPlainMlpOps;
  const double dense_kernels = model.gated_mlp ? kGatedMlpKernels : kPlainMlpKernels;
  const double moe_frac = model.moe_layer_fraction();
  if (moe_frac > 0) {
    const double experts = expected_experts_touched(model, tokens);
    const double shared = model.shared_experts;
    const double moe_ops = kRouterOps + experts * kExpertOps + shared * kGatedMlpOps;
    const double moe_kernels = kRouterOps + experts * kExpertKernels + shared * kGatedMlpKernels;
    ops.host_ops += moe_frac * moe_ops + (1 - moe_frac) * dense_ops;
    ops.kernels += moe_frac * moe_kernels + (1 - moe_frac) * dense_kernels;
  } else {
    ops.host_ops += dense_ops;
    ops.kernels += dense_kernels;
  }
  ops.allreduces = tp > 1 ? 2 : 0;
  return ops;
}

double eager_layer_dispatch_ns(const ModelSpec& model, int tp, double tokens, const EagerHostCosts& costs) {
  if (!costs.enabled()) return 0;
  const EagerLayerOps ops = eager_layer_ops(model, tp, tokens);
  // An all-reduce is one more Python-level operation plus the NCCL call's own host work.
  return (ops.host_ops + ops.allreduces) * costs.host_op_ns + ops.allreduces * costs.allreduce_host_ns;
}

}  // namespace servetwin
