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

// Real models' geometry comes from the catalog (configs/models, read by calibrate/core/catalog_hardware.hpp
// on the servetwin side), which hands it to the CUDA binary as --geometry (geometry_arg below). The one
// geometry kept here is a toy, so the CPU rehearsal in CI finishes in seconds.
inline ModelGeometry tiny_geometry() { return {"tiny", 4, 512, 1376, 8, 8, 64, 4096, true}; }

// "layers,hidden,ffn,heads_q,heads_kv,head_dim,vocab,gated(0|1)": how servetwin passes a catalog model's
// geometry to the CUDA binary, which cannot read the catalog (it runs on bare GPU machines without yaml-cpp).
inline std::string geometry_arg(const ModelGeometry& g) {
  return std::to_string(g.layers) + "," + std::to_string(g.hidden) + "," + std::to_string(g.ffn) + "," +
         std::to_string(g.heads_q) + "," + std::to_string(g.heads_kv) + "," + std::to_string(g.head_dim) + "," +
         std::to_string(g.vocab) + "," + (g.gated ? "1" : "0");
}

inline ModelGeometry parse_geometry_arg(const std::string& name, const std::string& text) {
  std::vector<int> v;
  std::size_t pos = 0;
  for (bool more = true; more;) {
    const std::size_t end = text.find(',', pos);
    more = end != std::string::npos;
    const std::string field = text.substr(pos, more ? end - pos : std::string::npos);
    std::size_t used = 0;
    int x = -1;
    try {
      x = std::stoi(field, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    v.push_back(used == field.size() && !field.empty() ? x : -1);
    pos = end + 1;
  }
  bool ok = v.size() == 8 && (v[7] == 0 || v[7] == 1);
  for (std::size_t i = 0; ok && i < 7; ++i) ok = v[i] >= 1;
  if (!ok) {
    throw std::invalid_argument("--geometry '" + text +
                                "': expected layers,hidden,ffn,heads_q,heads_kv,head_dim,vocab,gated (7 positive "
                                "integers, then 0 or 1)");
  }
  return {name, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] == 1};
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
  // Per-GPU heads and FFN columns are whole numbers: the integer division is the shard size.
  // NOLINTNEXTLINE(bugprone-integer-division)
  if (op == "rope") return e * 2.0 * tokens * (g.heads_q / tp + kv_heads) * g.head_dim;  // q,k in and out
  // NOLINTNEXTLINE(bugprone-integer-division)
  if (op == "silu_mul") return e * 3.0 * tokens * (g.ffn / tp);                 // gate, up in; out
  throw std::invalid_argument("unknown elementwise op '" + op + "'");
}

inline std::vector<int> log_grid(int lo, int hi, int points_per_octave = 1) {
  std::vector<int> v;
  double x = lo;
  const double step = std::pow(2.0, 1.0 / points_per_octave);
  int last = 0;
  while (x <= hi + 1e-9) {
    // x >= lo > 0, where adding 0.5 and truncating is round-half-up; kept so the grids stay as fitted.
    const int r = static_cast<int>(x + 0.5);  // NOLINT(bugprone-incorrect-roundings)
    if (r != last) v.push_back(r);
    last = r;
    x *= step;
  }
  if (v.empty() || v.back() != hi) v.push_back(hi);
  return v;
}

}  // namespace servetwin::calibrate
