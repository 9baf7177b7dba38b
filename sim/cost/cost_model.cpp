#include "sim/cost/cost_model.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/eager_overhead.hpp"
#include "sim/cost/weight_datapath.hpp"

namespace servetwin {
namespace {

// KV heads are replicated when there are fewer of them than TP ranks.
int local_kv_heads(const ModelSpec& m, int tp) { return std::max(1, m.num_kv_heads / tp); }

double mlp_matrices(const ModelSpec& m) { return m.gated_mlp ? 3.0 : 2.0; }

}  // namespace

CostModel::CostModel(const ModelSpec& model, const GpuSpec& gpu, const HardwareProfile& profile,
                     const InterconnectSpec& interconnect, int tp, std::string dtype, EngineCostParams engine)
    : model_(model), gpu_(gpu), profile_(profile), tp_(tp), dtype_(std::move(dtype)), engine_(engine) {
  if (tp_ < 1) throw ConfigError("tp: must be >= 1");
  const WeightDatapath datapath = weight_datapath(gpu_, dtype_);
  weight_elem_bytes_ = datapath.elem_bytes;
  peak_flops_ = datapath.peak_flops;
  act_elem_bytes_ = 2;  // activations and KV cache stay 16-bit (engines' default KV dtype)
  allreduce_ = AllReduceCost(interconnect, tp_, engine_.custom_allreduce_max_bytes);
  const double h = model_.hidden_size, hd = model_.head_dim;
  const double q_local = static_cast<double>(model_.num_attention_heads) / tp_;
  const double kv_local = local_kv_heads(model_, tp_);
  const double experts = model_.num_experts > 0 ? model_.num_experts + model_.shared_experts : 1;
  const double attn_local = h * q_local * hd * 2 + h * kv_local * hd * 2;
  // Per layer on average: MoE layers hold every expert, interleaved dense layers one MLP.
  const double moe_frac = model_.num_experts > 0 ? model_.moe_layer_fraction() : 1.0;
  const double mlp_local =
      mlp_matrices(model_) * h *
      (moe_frac * model_.intermediate_size * experts + (1 - moe_frac) * model_.dense_intermediate_size) / tp_;
  const double embed_local = static_cast<double>(model_.vocab_size) * h / tp_;
  weight_bytes_per_gpu_ = weight_elem_bytes_ * (model_.num_layers * (attn_local + mlp_local) +
                                                embed_local * (model_.tie_word_embeddings ? 1 : 2)) +
                          act_elem_bytes_ * (model_.num_layers * 2 + 1) * h;
  kv_bytes_per_token_per_gpu_ = model_.num_layers * 2.0 * kv_local * hd * engine_.kv_elem_bytes;
}

double CostModel::gemm_ns(double m, double k, double n) const {
  if (m <= 0) return 0;
  const double flops = 2 * m * k * n;
  const double bytes = weight_elem_bytes_ * k * n + act_elem_bytes_ * (m * k + m * n);
  // Achieved FLOP/s rises with M and saturates (tile quantisation and wave effects at small M).
  const double eff =
      engine_.compute_eff_scale * profile_.gemm_eff_max.value * m / (m + profile_.gemm_m_half_tokens.value);
  const double t_compute_s = flops / (peak_flops_ * eff);
  const double t_memory_s = bytes / (gpu_.mem_bw_bytes_s * profile_.gemm_bw_eff.value);
  return std::max(t_compute_s, t_memory_s) * 1e9;
}

double CostModel::mlp_gemm_ns(double m, double f_local) const {
  const double h = model_.hidden_size;
  return gemm_ns(m, h, (model_.gated_mlp ? 2 : 1) * f_local) + gemm_ns(m, f_local, h);
}

double CostModel::moe_gemm_ns(double m) const {
  // Each token picks k of E experts; the expected number of distinct experts touched by m tokens
  // is E * (1 - (1 - k/E)^m). Each touched expert runs its gate/up and down GEMMs on its share.
  const double e = model_.num_experts, k = model_.experts_per_token;
  const double touched = e * (1 - std::pow(1 - k / e, m));
  const double m_per_expert = m * k / touched;
  const double h = model_.hidden_size, f = static_cast<double>(model_.intermediate_size) / tp_;
  const double per_expert = mlp_gemm_ns(m_per_expert, f);
  // Shared experts (Llama 4) run on every token, like a dense MLP.
  const double shared = model_.shared_experts > 0 ? model_.shared_experts * mlp_gemm_ns(m, f) : 0;
  return touched * per_expert + shared + gemm_ns(m, h, e);  // + router
}

double CostModel::allreduce_ns(double bytes) const { return allreduce_.ns(bytes); }

double CostModel::layer_gemm_ns(std::int64_t tokens) const {
  // Memoised by token count: a run evaluates the same few hundred batch sizes millions of times.
  const auto idx = static_cast<std::size_t>(tokens);
  if (idx < kMemoTokens && layer_gemm_memo_[idx] >= 0) return layer_gemm_memo_[idx];
  const double m = static_cast<double>(tokens);
  const double h = model_.hidden_size, hd = model_.head_dim;
  const double q_local = static_cast<double>(model_.num_attention_heads) / tp_;
  const double kv_local = local_kv_heads(model_, tp_);
  const double f_local = static_cast<double>(model_.intermediate_size) / tp_;
  double t = gemm_ns(m, h, (q_local + 2 * kv_local) * hd) + gemm_ns(m, q_local * hd, h);
  if (model_.num_experts > 0) {
    // The average layer: interleaved MoE models (moe_layer_step > 1) mix in dense MLP layers.
    const double frac = model_.moe_layer_fraction();
    const double dense_f = static_cast<double>(model_.dense_intermediate_size) / tp_;
    t += frac * moe_gemm_ns(m);
    if (frac < 1) t += (1 - frac) * mlp_gemm_ns(m, dense_f);
  } else {
    t += mlp_gemm_ns(m, f_local);
  }
  if (idx < kMemoTokens) layer_gemm_memo_[idx] = t;
  return t;
}

double CostModel::lm_head_ns(std::int64_t tokens) const {
  const auto idx = static_cast<std::size_t>(tokens);
  if (idx < kMemoTokens && lm_head_memo_[idx] >= 0) return lm_head_memo_[idx];
  const double t = gemm_ns(static_cast<double>(tokens), model_.hidden_size,
                           static_cast<double>(model_.vocab_size) / tp_);
  if (idx < kMemoTokens) lm_head_memo_[idx] = t;
  return t;
}

StepCost CostModel::step(const StepShape& s) const {
  StepCost c;
  const double layers = model_.num_layers;
  const double h = model_.hidden_size, hd = model_.head_dim;
  const double q_local = static_cast<double>(model_.num_attention_heads) / tp_;
  const double kv_local = local_kv_heads(model_, tp_);
  const double f_local = static_cast<double>(model_.intermediate_size) / tp_;
  const double m = static_cast<double>(s.gemm_tokens());
  if (m <= 0) return c;

  // Linear layers.
  c.gemm_ns = layers * layer_gemm_ns(s.gemm_tokens()) + lm_head_ns(s.lm_head_tokens);

  // Attention.
  double prefill_pairs = s.prefill_attn_pairs;
  if (s.padded && s.prefill_seqs > 0) {
    // Eager attention over the padded batch computes every (query, key) pair, mask included.
    const double len = static_cast<double>(s.padded_prefill_tokens) / static_cast<double>(s.prefill_seqs);
    prefill_pairs = static_cast<double>(s.padded_prefill_tokens) * len;
  }
  const double prefill_attn_flops = 4 * prefill_pairs * hd * q_local;
  const double kv_tokens = static_cast<double>(s.padded ? std::max(s.padded_decode_kv_tokens, s.decode_kv_tokens)
                                                         : s.decode_kv_tokens);
  const double decode_kv_bytes = kv_tokens * 2 * kv_local * hd * engine_.kv_elem_bytes;
  c.attention_ns = layers * (prefill_attn_flops /
                                 (peak_flops_ * engine_.compute_eff_scale * profile_.attn_prefill_flops_eff.value) +
                             decode_kv_bytes / (gpu_.mem_bw_bytes_s * profile_.attn_decode_bw_eff.value)) *
                   1e9;

  // Norms, residual adds, rotary (about 12 hidden-sized reads/writes per token per layer) and
  // the MLP activation (read gate and up, write the product).
  const double elem_bytes = m * act_elem_bytes_ * (12 * h + (model_.gated_mlp ? 3 : 2) * f_local);
  c.elementwise_ns = layers * elem_bytes / (gpu_.mem_bw_bytes_s * profile_.elementwise_bw_eff.value) * 1e9;

  c.copy_ns = s.copy_bytes_per_gpu / (gpu_.mem_bw_bytes_s * profile_.copy_bw_eff.value) * 1e9;

  // Two all-reduces of [tokens, hidden] per layer plus one after the vocab-parallel embedding;
  // the sharded LM head's logits are all-gathered (half the traffic of an all-reduce).
  const double ar_bytes = m * h * act_elem_bytes_;
  const double gather_bytes = static_cast<double>(s.lm_head_tokens) * model_.vocab_size * act_elem_bytes_;
  c.comm_ns = (2 * layers + 1) * allreduce_ns(ar_bytes) + (gather_bytes > 0 ? allreduce_ns(gather_bytes / 2) : 0);

  // GPU launch gaps between kernels, and engine CPU time. Per-layer dispatch overlaps GPU work
  // (asynchronous launches); per-step and per-sequence CPU work (scheduling, sampling) does not.
  const double gpu_work = c.gemm_ns + c.attention_ns + c.elementwise_ns + c.copy_ns + c.comm_ns;
  const double gpu_busy = gpu_work + profile_.step_overhead_ns.value + layers * profile_.layer_overhead_ns.value;
  const bool graph_step = engine_.graph_decode && s.prefill_seqs == 0;
  // Eager engines: the host dispatches every operation of every layer (sim/cost/eager_overhead.hpp).
  const double eager_layer_ns = eager_layer_dispatch_ns(model_, tp_, m, engine_.eager);
  const double cpu_dispatch = graph_step ? 0 : layers * (engine_.cpu_layer_ns + eager_layer_ns);
  const double serial_cpu = engine_.cpu_step_ns + static_cast<double>(s.total_seqs()) * engine_.cpu_seq_ns;
  c.total_ns = engine_.overlap_cpu ? std::max(gpu_busy, cpu_dispatch + serial_cpu)
                                    : serial_cpu + std::max(gpu_busy, cpu_dispatch);
  c.overhead_ns = c.total_ns - gpu_work;
  return c;
}

}  // namespace servetwin
