#include <algorithm>
#include <cmath>
#include <map>

#include "calibrate/core/catalog_hardware.hpp"
#include "calibrate/core/model_shapes.hpp"
#include "calibrate/published/csv_table.hpp"
#include "calibrate/published/published.hpp"
#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {

namespace {

constexpr double kNsPerMs = 1e6;

// Vidur's operator names -> our GEMM op names.
const std::map<std::string, std::string>& vidur_gemm_ops() {
  static const std::map<std::string, std::string> m{
      {"attn_pre_proj", "qkv"}, {"attn_post_proj", "o"}, {"mlp_up_proj", "gate_up"}, {"mlp_down_proj", "down"}};
  return m;
}
// Vidur's elementwise operators -> our elementwise op names (bytes defined in model_shapes.hpp).
const std::map<std::string, std::string>& vidur_elementwise_ops() {
  static const std::map<std::string, std::string> m{{"input_layernorm", "rmsnorm"},
                                                    {"post_attention_layernorm", "rmsnorm"},
                                                    {"attn_rope", "rope"},
                                                    {"mlp_act", "silu_mul"},
                                                    {"add", "add"}};
  return m;
}

}  // namespace

CalibrationData read_vidur_mlp(const std::filesystem::path& csv, const std::string& model_label) {
  const CsvTable t = CsvTable::read(csv);
  CalibrationData d;
  d.device.kind = "published";
  d.model = model_label;
  d.sources.push_back(csv.string());
  const auto c_heads = t.column("n_head"), c_kv = t.column("n_kv_head"), c_embd = t.column("n_embd"),
             c_ffn = t.column("n_expanded_embd"), c_vocab = t.column("vocab_size"),
             c_gated = t.column("use_gated_mlp"), c_tokens = t.column("num_tokens"),
             c_tp = t.column("num_tensor_parallel_workers");
  std::map<std::string, std::size_t> gemm_cols, ew_cols;
  for (const auto& [vop, op] : vidur_gemm_ops()) gemm_cols[vop] = t.column("time_stats." + vop + ".median");
  for (const auto& [vop, op] : vidur_elementwise_ops()) ew_cols[vop] = t.column("time_stats." + vop + ".median");
  for (std::size_t r = 0; r < t.rows(); ++r) {
    ModelGeometry g;
    g.name = model_label;
    g.heads_q = static_cast<int>(t.number(r, c_heads));
    g.heads_kv = static_cast<int>(t.number(r, c_kv));
    g.hidden = static_cast<int>(t.number(r, c_embd));
    g.ffn = static_cast<int>(t.number(r, c_ffn));
    g.vocab = static_cast<int>(t.number(r, c_vocab));
    g.gated = t.text(r, c_gated) == "True";
    if (g.heads_q <= 0 || g.hidden % g.heads_q != 0)
      throw ConfigError(csv.string() + ":" + std::to_string(r + 2) + ": bad n_head/n_embd");
    g.head_dim = g.hidden / g.heads_q;
    const int tp = static_cast<int>(t.number(r, c_tp));
    const double m = t.number(r, c_tokens);
    const auto shapes = gemm_shapes(g, tp, false);
    for (const auto& [vop, op] : vidur_gemm_ops()) {
      const double ms = t.number(r, gemm_cols[vop]);
      if (!(ms > 0)) continue;
      for (const auto& s : shapes) {
        if (s.op != op) continue;
        d.gemm.push_back({op, model_label, tp, m, static_cast<double>(s.n), static_cast<double>(s.k), ms * kNsPerMs, 0});
      }
    }
    for (const auto& [vop, op] : vidur_elementwise_ops()) {
      const double ms = t.number(r, ew_cols[vop]);
      if (!(ms > 0)) continue;
      d.bandwidth.push_back({"elementwise", op, m, elementwise_bytes(op, m, g, tp), ms * kNsPerMs});
    }
  }
  return d;
}

CalibrationData read_vidur_allreduce(const std::filesystem::path& csv, const std::string& system,
                                     bool include_cross_node) {
  const CsvTable t = CsvTable::read(csv);
  CalibrationData d;
  d.device.kind = "published";
  d.sources.push_back(csv.string());
  const auto c_t = t.column("time_stats.all_reduce.median"), c_n = t.column("num_workers"),
             c_size = t.column("size"), c_dpn = t.column("devices_per_node");
  for (std::size_t r = 0; r < t.rows(); ++r) {
    const int n = static_cast<int>(t.number(r, c_n));
    const int dpn = static_cast<int>(t.number(r, c_dpn));
    if (!include_cross_node && dpn != n) continue;
    d.collectives.push_back({"all_reduce", system, n, t.number(r, c_size), t.number(r, c_t) * kNsPerMs, true});
  }
  return d;
}

bool vidur_switched_nvlink(const std::string& system) { return system == "a100_dgx" || system == "h100_dgx"; }

CalibrationData read_vidur_attention(const std::filesystem::path& csv) {
  const CsvTable t = CsvTable::read(csv);
  CalibrationData d;
  d.device.kind = "published";
  d.sources.push_back(csv.string());
  const auto c_pre = t.column("time_stats.attn_prefill.median"), c_dec = t.column("time_stats.attn_decode.median"),
             c_embd = t.column("n_embd"), c_q = t.column("n_q_head"), c_kv = t.column("n_kv_head"),
             c_tp = t.column("num_tensor_parallel_workers"), c_b = t.column("batch_size"),
             c_chunk = t.column("prefill_chunk_size"), c_ctx = t.column("kv_cache_size"),
             c_is_pre = t.column("is_prefill");
  for (std::size_t r = 0; r < t.rows(); ++r) {
    const double tp = t.number(r, c_tp);
    AttentionPoint a;
    a.heads_q = t.number(r, c_q) / tp;
    a.heads_kv = std::max(1.0, t.number(r, c_kv) / tp);
    a.head_dim = t.number(r, c_embd) / t.number(r, c_q);
    a.batch = t.number(r, c_b);
    a.kv_len = t.number(r, c_ctx);
    if (t.text(r, c_is_pre) == "True") {
      a.phase = "prefill";
      a.q_len = t.number(r, c_chunk);
      a.flops = attention_prefill_flops(a.batch, a.q_len, a.kv_len, a.heads_q, a.head_dim);
      a.kv_bytes = attention_kv_bytes(a.batch, a.kv_len + a.q_len, a.heads_kv, a.head_dim);
      a.time_ns = t.number(r, c_pre) * kNsPerMs;
    } else {
      a.phase = "decode";
      a.q_len = 1;
      if (a.kv_len <= 0) continue;  // no context: nothing to read, time is pure launch floor
      a.flops = attention_prefill_flops(a.batch, 1, a.kv_len, a.heads_q, a.head_dim);
      a.kv_bytes = attention_kv_bytes(a.batch, a.kv_len, a.heads_kv, a.head_dim);
      a.time_ns = t.number(r, c_dec) * kNsPerMs;
    }
    if (a.time_ns > 0) d.attention.push_back(a);
  }
  return d;
}

std::vector<SplitwiseRow> read_splitwise(const std::filesystem::path& csv) {
  const CsvTable t = CsvTable::read(csv);
  const auto c_model = t.column("model"), c_hw = t.column("hardware"), c_tp = t.column("tensor_parallel"),
             c_p = t.column("prompt_size"), c_b = t.column("batch_size"), c_o = t.column("token_size"),
             c_pt = t.column("prompt_time"), c_tt = t.column("token_time");
  std::vector<SplitwiseRow> rows;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    rows.push_back({t.text(r, c_model), t.text(r, c_hw), static_cast<int>(t.number(r, c_tp)), t.number(r, c_p),
                    t.number(r, c_b), t.number(r, c_o), t.number(r, c_pt), t.number(r, c_tt)});
  }
  return rows;
}

CalibrationData read_published(const Catalog& catalog, const std::string& spec, const std::filesystem::path& shared_dir,
                               const std::vector<std::string>& models) {
  const auto colon = spec.find(':');
  const std::string source = spec.substr(0, colon);
  const std::string gpu = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (source != "vidur") throw ConfigError("--published '" + spec + "': unknown source (allowed: vidur:a100, vidur:h100)");
  if (gpu != "a100" && gpu != "h100")
    throw ConfigError("--published '" + spec + "': unknown GPU '" + gpu + "' (allowed: a100, h100)");
  const auto base = shared_dir / "calibration" / "vidur";
  CalibrationData d;
  d.device.kind = "published";
  // Vidur's README: `a100` is A100 80GB; `h100` is "H100 80GB" in a DGX (SXM assumed, as the
  // h100_dgx network profile is an SXM system).
  const Datasheet peaks = catalog_datasheet(catalog, gpu == "a100" ? "A100-80GB-SXM" : "H100-SXM");
  const Datasheet* ds = &peaks;
  d.device.gpu = ds->gpu;
  d.device.name = ds->gpu + " (Vidur published profile)";
  d.device.peak_fp16_flops = ds->peak_fp16_flops;
  d.device.mem_bw_bytes_s = ds->mem_bw_bytes_s;
  d.device.peak_source = ds->source;
  d.device.device_count = 8;
  const std::vector<std::pair<std::string, std::string>> all{{"llama-2-7b", "Llama-2-7b-hf"},
                                                             {"llama-2-70b", "Llama-2-70b-hf"}};
  for (const auto& [label, dir] : all) {
    if (!models.empty() && std::find(models.begin(), models.end(), label) == models.end()) continue;
    d.append(read_vidur_mlp(base / "compute" / gpu / "meta-llama" / dir / "mlp.csv", label));
  }
  d.append(read_vidur_allreduce(base / "network" / (gpu + "_dgx") / "all_reduce.csv", gpu + "_dgx"));
  if (gpu == "a100") d.append(read_vidur_attention(base / "legacy-e2d00e9" / "a100" / "attention.csv"));
  d.model = models.size() == 1 ? models.front() : "llama-2-7b+llama-2-70b";
  d.date_utc = utc_now_iso8601();
  return d;
}

}  // namespace servetwin::calibrate
