#pragma once
// Model geometry and the per-GPU GEMM/elementwise shapes a model produces at a TP degree.
// The catalog loader (sim/catalog) is not a dependency here on purpose: the CUDA binary that runs
// on a bare GPU machine uses this header too, and must not need yaml-cpp. Header-only, C++17.
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace servetwin::calibrate {

struct ModelGeometry {
  std::string name;
  int layers = 0, hidden = 0, ffn = 0, heads_q = 0, heads_kv = 0, head_dim = 0, vocab = 0;
  bool gated = true;  // SwiGLU: gate and up projections fused into one GEMM of width 2*ffn
};

// Values from each model's Hugging Face config.json (the same figures configs/models/ carries).
inline const std::vector<ModelGeometry>& builtin_models() {
  static const std::vector<ModelGeometry> models{
      {"llama-2-7b", 32, 4096, 11008, 32, 32, 128, 32000, true},
      {"llama-2-13b", 40, 5120, 13824, 40, 40, 128, 32000, true},
      {"llama-2-70b", 80, 8192, 28672, 64, 8, 128, 32000, true},
      {"llama-3.1-8b", 32, 4096, 14336, 32, 8, 128, 128256, true},
      {"llama-3.1-70b", 80, 8192, 28672, 64, 8, 128, 128256, true},
      {"mistral-7b", 32, 4096, 14336, 32, 8, 128, 32000, true},
      {"qwen2.5-7b", 28, 3584, 18944, 28, 4, 128, 152064, true},
      // A toy geometry so the CPU rehearsal in CI finishes in seconds.
      {"tiny", 4, 512, 1376, 8, 8, 64, 4096, true},
  };
  return models;
}

inline const ModelGeometry& find_model(const std::string& name) {
  for (const auto& m : builtin_models())
    if (m.name == name) return m;
  std::string list;
  for (const auto& m : builtin_models()) list += (list.empty() ? "" : ", ") + m.name;
  throw std::invalid_argument("unknown model '" + name + "' (allowed: " + list + ")");
}

struct GemmShape {
  std::string op;  // qkv | o | gate_up | down | lm_head
  int n = 0, k = 0;  // weights are K x N; M = tokens
};

// Per-GPU weight shards under Megatron-style TP (column-parallel QKV and gate/up, row-parallel O
// and down, vocab-parallel LM head), the layout vLLM, TGI and Vidur's profiler use.
inline std::vector<GemmShape> gemm_shapes(const ModelGeometry& g, int tp, bool with_lm_head = true) {
  if (tp < 1 || g.heads_q % tp != 0) throw std::invalid_argument("TP degree must divide the number of query heads");
  const int kv_heads = g.heads_kv >= tp ? g.heads_kv / tp : 1;  // KV heads replicate when TP > kv heads
  std::vector<GemmShape> s{
      {"qkv", (g.heads_q / tp + 2 * kv_heads) * g.head_dim, g.hidden},
      {"o", g.hidden, g.heads_q / tp * g.head_dim},
      {"gate_up", (g.gated ? 2 : 1) * g.ffn / tp, g.hidden},
      {"down", g.hidden, g.ffn / tp},
  };
  if (with_lm_head) s.push_back({"lm_head", g.vocab / tp, g.hidden});
  return s;
}

// Bytes an elementwise kernel of a layer moves for M tokens (fp16: 2 bytes per element; reads +
// writes). These are the definitions the fitter and the cost model must share.
inline double elementwise_bytes(const std::string& op, double tokens, const ModelGeometry& g, int tp) {
  const double e = 2.0;
  const int kv_heads = g.heads_kv >= tp ? g.heads_kv / tp : 1;
  if (op == "rmsnorm") return e * (2.0 * tokens * g.hidden + g.hidden);         // x in, y out, weight
  if (op == "add") return e * 3.0 * tokens * g.hidden;                          // a, b in, sum out
  if (op == "rope") return e * 2.0 * tokens * (g.heads_q / tp + kv_heads) * g.head_dim;  // q,k in and out
  if (op == "silu_mul") return e * 3.0 * tokens * (g.ffn / tp);                 // gate, up in; out
  throw std::invalid_argument("unknown elementwise op '" + op + "'");
}

inline std::vector<int> log_grid(int lo, int hi, int points_per_octave = 1) {
  std::vector<int> v;
  double x = lo;
  const double step = std::pow(2.0, 1.0 / points_per_octave);
  int last = 0;
  while (x <= hi + 1e-9) {
    const int r = static_cast<int>(x + 0.5);
    if (r != last) v.push_back(r);
    last = r;
    x *= step;
  }
  if (v.empty() || v.back() != hi) v.push_back(hi);
  return v;
}

}  // namespace servetwin::calibrate
