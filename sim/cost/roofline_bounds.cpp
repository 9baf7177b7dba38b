#include "sim/cost/roofline_bounds.hpp"

#include <algorithm>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/weight_datapath.hpp"

namespace servetwin {
namespace {

// Multiply-accumulates per token of one layer's linear layers on one GPU (Megatron TP split).
double linear_macs_per_token_per_layer(const ModelSpec& m, int tp) {
  const double h = m.hidden_size, hd = m.head_dim;
  const double q_local = static_cast<double>(m.num_attention_heads) / tp;
  const double kv_local = std::max(1, m.num_kv_heads / tp);
  const double f_local = static_cast<double>(m.intermediate_size) / tp;
  const double attn = h * (q_local + 2 * kv_local) * hd + q_local * hd * h;
  const double mlp = (m.gated_mlp ? 3.0 : 2.0) * h * f_local;
  return attn + mlp;
}

}  // namespace

RooflineBounds roofline_bounds(const ModelSpec& model, const GpuSpec& gpu, const CostModel& cost,
                               const std::string& dtype, const StepShape& step) {
  if (model.num_experts > 0) {
    throw ConfigError("roofline bounds: " + model.name + " is a mixture of experts; bounds are defined for dense models");
  }
  const int tp = cost.tp();
  const double layers = model.num_layers;
  const double q_local = static_cast<double>(model.num_attention_heads) / tp;
  const double kv_tokens = static_cast<double>(step.decode_kv_tokens);
  RooflineBounds b;
  b.memory_bytes = cost.weight_bytes_per_gpu() + kv_tokens * cost.kv_bytes_per_token_per_gpu();
  const double gemm_tokens = static_cast<double>(step.gemm_tokens());
  const double lm_head_macs = static_cast<double>(step.lm_head_tokens) * model.hidden_size *
                              (static_cast<double>(model.vocab_size) / tp);
  // QK^T and PV: 2 multiply-accumulates per (query, key) pair per head dimension per head.
  const double attn_pairs = step.prefill_attn_pairs + kv_tokens;
  const double attn_macs = layers * 2 * attn_pairs * model.head_dim * q_local;
  const double linear_flops = 2 * (layers * gemm_tokens * linear_macs_per_token_per_layer(model, tp) + lm_head_macs);
  b.flops = linear_flops + 2 * attn_macs;
  const double peak_flops = weight_datapath(gpu, dtype).peak_flops;
  const double ns_per_byte = 1e9 / gpu.mem_bw_bytes_s, ns_per_flop = 1e9 / peak_flops;
  b.memory_ns = b.memory_bytes * ns_per_byte;
  b.compute_ns = b.flops * ns_per_flop;
  const double kv_bytes = kv_tokens * cost.kv_bytes_per_token_per_gpu();
  b.serial_ns = std::max(cost.weight_bytes_per_gpu() * ns_per_byte, linear_flops * ns_per_flop) +
                std::max(kv_bytes * ns_per_byte, 2 * attn_macs * ns_per_flop);
  return b;
}

StepShape decode_step_shape(std::int64_t batch, std::int64_t context_tokens) {
  StepShape s;
  s.decode_seqs = batch;
  s.decode_kv_tokens = batch * context_tokens;
  s.lm_head_tokens = batch;
  return s;
}

StepShape mixed_step_shape(std::int64_t batch, std::int64_t context_tokens, std::int64_t prefill_tokens) {
  StepShape s = decode_step_shape(batch, context_tokens);
  const double n = static_cast<double>(prefill_tokens);
  s.prefill_seqs = 1;
  s.prefill_tokens = prefill_tokens;
  s.prefill_attn_pairs = n * (n + 1) / 2;
  s.lm_head_tokens = batch + 1;
  return s;
}

}  // namespace servetwin
