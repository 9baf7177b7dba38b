#include "sim/catalog/model_params.hpp"

namespace servetwin {
namespace {

double count(const ModelSpec& m, bool active_only) {
  const double h = m.hidden_size;
  const double q_dim = static_cast<double>(m.num_attention_heads) * m.head_dim;
  const double kv_dim = static_cast<double>(m.num_kv_heads) * m.head_dim;
  const double attention = h * q_dim + 2.0 * h * kv_dim + q_dim * h;
  // Gated MLPs (SwiGLU) have gate, up and down matrices; plain MLPs (OPT, BLOOM) have two.
  const double one_mlp = (m.gated_mlp ? 3.0 : 2.0) * h * m.intermediate_size;
  double mlp = one_mlp;
  if (m.num_experts > 0) {
    const double experts = active_only ? m.experts_per_token : m.num_experts;
    const double moe_mlp = (experts + m.shared_experts) * one_mlp + h * m.num_experts;  // + router
    const double dense_mlp = (m.gated_mlp ? 3.0 : 2.0) * h * m.dense_intermediate_size;
    mlp = m.moe_layer_fraction() * moe_mlp + (1 - m.moe_layer_fraction()) * dense_mlp;
  }
  const double norms = 2.0 * h;
  const double per_layer = attention + mlp + norms;
  const double embedding = static_cast<double>(m.vocab_size) * h;
  const double lm_head = m.tie_word_embeddings ? 0.0 : embedding;
  return embedding + m.num_layers * per_layer + h /* final norm */ + lm_head;
}

}  // namespace

double parameter_count(const ModelSpec& m) { return count(m, false); }
double active_parameter_count(const ModelSpec& m) { return count(m, true); }

double kv_bytes_per_token(const ModelSpec& m, double bytes_per_element) {
  return 2.0 * m.num_layers * m.num_kv_heads * m.head_dim * bytes_per_element;
}

}  // namespace servetwin
