#pragma once
// Parameter counts derived from a ModelSpec (for `servetwin list models` and sanity tests).
// Counts weights of embeddings, attention projections, MLP/experts, router, norms and lm_head;
// biases and learned position embeddings are ignored (< 0.1% for the catalog's models).
#include "sim/catalog/specs.hpp"

namespace servetwin {

// All weights (every expert of an MoE).
double parameter_count(const ModelSpec& m);
// Weights touched per token: MoE layers count only experts_per_token experts.
double active_parameter_count(const ModelSpec& m);
// KV-cache bytes per token at `bytes_per_element` (2 for FP16), over all layers.
double kv_bytes_per_token(const ModelSpec& m, double bytes_per_element = 2.0);

}  // namespace servetwin
