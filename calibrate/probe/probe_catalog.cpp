#include "calibrate/probe/probe_catalog.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <fstream>

#include "sim/catalog/catalog.hpp"
#include "sim/metrics/summary.hpp"

namespace servetwin::calibrate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  if (!out) throw ConfigError("cannot write " + p.string());
  out << text;
}

// models/<name>.yaml from an HF config.json (Llama-style keys).
std::string model_yaml_from_hf(const fs::path& config, const std::string& name) {
  std::ifstream in(config);
  if (!in) throw ConfigError("--hf-config " + config.string() + ": cannot read");
  const json c = json::parse(in, nullptr, false);
  if (!c.is_object()) throw ConfigError("--hf-config " + config.string() + ": not a JSON object");
  auto get = [&](const char* key) -> long long {
    if (!c.contains(key) || !c[key].is_number_integer())
      throw ConfigError("--hf-config " + config.string() + ": " + key + ": missing or not an integer");
    return c[key].get<long long>();
  };
  const long long heads = get("num_attention_heads"), hidden = get("hidden_size");
  const long long kv = c.contains("num_key_value_heads") ? get("num_key_value_heads") : heads;
  const long long head_dim = c.contains("head_dim") ? get("head_dim") : hidden / heads;
  const std::string src = "HF config " + config.string();
  std::string y = fmt::format("# The probed endpoint's model, from its HF config (servetwin calibrate fit --hf-config).\n"
                              "kind: model\nname: \"{}\"\naliases: []\nfamily: llama\ntokenizer: probe\n", name);
  for (const auto& [key, val] : std::vector<std::pair<std::string, long long>>{
           {"num_layers", get("num_hidden_layers")}, {"hidden_size", hidden}, {"intermediate_size", get("intermediate_size")},
           {"num_attention_heads", heads}, {"num_kv_heads", kv}, {"head_dim", head_dim}, {"vocab_size", get("vocab_size")},
           {"max_position_embeddings", get("max_position_embeddings")}})
    y += fmt::format("{}: {{value: {}, source: \"{}\"}}\n", key, val, src);
  y += fmt::format("tie_word_embeddings: {}\ngated_mlp: true\n", c.value("tie_word_embeddings", false) ? "true" : "false");
  return y;
}

std::string sourced(double v, const std::string& provenance, const std::string& source) {
  return fmt::format("{{value: {:.6g}, provenance: {}, source: \"{}\"}}", v, provenance, source);
}
// What the fitted coefficients become in the catalog's terms (docs/calibration.md, "Probe an endpoint").
struct CatalogTerms {
  double per_token_s = 0, peak = 0, mem_bw = 1e15, attn_eff = 1, decode_eff = 1, step_s = 0, seq_s = 0, api_s = 0;
  double gemm_eff = 1;  // the GEMMs' share of `peak` (below 1 only when attention runs faster than they do)
  int block = 16, seqs = 0, budget = 2048;
  long long blocks = 0;
};

// The decode line s + q·batch into the simulator's step: cpu_step_ns + batch·cpu_seq_ns + the GEMMs,
// which cost max(tokens x FLOPs / peak, weight bytes / bandwidth) (sim/cost/cost_model.cpp).
//  - q at least one token's GEMMs at the prefill rate (token_gemm_s): the GEMMs are compute-bound from
//    batch 1; memory is free, cpu_seq_ns = q - token_gemm_s, cpu_step_ns = s.
//  - q below it (decode GEMMs that read the weights once per step whatever the batch: a GPU, or a CPU
//    whose small-batch GEMMs are bound by the weight reads): charging each decode token the prefill
//    rate would make the simulated line steeper than the measured one. The GEMMs are memory-bound up to
//    the largest batch probed (n*), where their time reaches the compute line: weight reads take
//    n*·token_gemm_s of the step (at most s), cpu_step_ns = s less that, cpu_seq_ns = q. Past n* the
//    simulated slope is q + token_gemm_s (an extrapolation: fit.json's range of validity says so).
void split_decode_costs(const ProbeFit& fit, double weight_bytes, double token_gemm_s, CatalogTerms& t) {
  const double s = fit.decode.coef[0], q = fit.decode.coef[1];
  if (q >= token_gemm_s) {
    t.step_s = s;
    t.seq_s = q - token_gemm_s;
    return;
  }
  const double n_star = std::min(std::max(1.0, fit.batch_max), s / token_gemm_s);
  const double weight_read_s = n_star * token_gemm_s;
  if (weight_read_s <= 0) {  // no fixed cost to carry the weight reads: compute-bound after all
    t.step_s = s;
    t.seq_s = 0;
    return;
  }
  t.mem_bw = weight_bytes / weight_read_s;
  t.step_s = s - weight_read_s;
  t.seq_s = q;
}

// The device: per-token GEMM work at the rate the prompt-token cost implies (efficiency 1, no ramp),
// memory so fast that only the fitted attention terms cost time; the engine: the rest of the costs.
CatalogTerms catalog_terms(const ProbeFit& fit, const ModelSpec& m, const ProbeCatalogOptions& o) {
  CatalogTerms t;
  const double h = m.hidden_size, hd = m.head_dim, q = m.num_attention_heads, kv = m.num_kv_heads, L = m.num_layers;
  const double layer_flops_per_token = 2 * L * (h * (q + 2 * kv) * hd + q * hd * h + 3 * h * m.intermediate_size);
  t.per_token_s = std::max(1e-9, fit.ttft.coef[1]);
  t.peak = layer_flops_per_token / t.per_token_s;
  const double lm_head_s = 2 * h * m.vocab_size / t.peak;
  // Causal prefill attention: 4·(p²/2)·hd·q per layer at peak·eff = c·p².
  t.attn_eff = fit.ttft.coef[2] > 0 ? std::min(1e3, L * 2 * hd * q / (t.peak * fit.ttft.coef[2])) : 1.0;
  if (t.attn_eff > 1) {
    // Attention ran at a higher FLOP rate than the GEMMs (on a CPU both are software kernels, and the
    // GEMM rate is only what the prompt-token cost implies). The catalog keeps efficiencies in (0, 1]:
    // the device's peak becomes the attention rate and the GEMMs get their share of it, so every
    // simulated cost is the same as with attn_eff > 1 (sim/cost/cost_model.cpp: gemm time uses
    // peak x gemm_eff_max, prefill attention peak x attn_prefill_flops_eff).
    t.peak *= t.attn_eff;
    t.gemm_eff = 1 / t.attn_eff;
    t.attn_eff = 1;
  }
  split_decode_costs(fit, layer_flops_per_token + 2 * h * m.vocab_size, t.per_token_s + lm_head_s, t);
  const double kv_bytes = L * 2 * kv * hd * 2;
  t.decode_eff = fit.decode.coef[2] > 0 ? kv_bytes / (t.mem_bw * fit.decode.coef[2]) : 1.0;
  t.api_s = std::max(0.0, fit.ttft.coef[0] - t.step_s - t.seq_s - lm_head_s);
  const auto& cc = fit.server_cache_config;
  t.block = o.block_size > 0 ? o.block_size : cc.contains("block_size") ? std::stoi(cc["block_size"].get<std::string>()) : 16;
  t.blocks = o.kv_blocks > 0 ? o.kv_blocks : cc.contains("num_gpu_blocks") ? std::stoll(cc["num_gpu_blocks"].get<std::string>()) : 0;
  if (t.blocks <= 0) throw ConfigError("calibrate fit: the KV cache size is unknown (the probe found no vllm:cache_config_info); give --kv-blocks N");
  // vLLM V1's BlockPool takes its first block as the null block, never allocated
  // (vllm/v1/core/block_pool.py, 0.11.2): the scheduler has num_gpu_blocks - 1.
  t.blocks -= 1;
  t.seqs = o.max_num_seqs > 0 ? o.max_num_seqs : fit.admission_limit;
  if (t.seqs <= 0) throw ConfigError("calibrate fit: the admission limit is unknown (no burst phase); give --max-num-seqs N");
  t.budget = o.max_num_batched_tokens > 0 ? o.max_num_batched_tokens : 2048;
  return t;
}

void write_device(const fs::path& cat, const CatalogTerms& t, const ProbeCatalogOptions& o) {
  const std::string src = "servetwin calibrate fit of a probe (fit.json)";
  const double mem_bw = t.mem_bw, peak = t.peak, per_token_s = t.per_token_s, attn_eff = t.attn_eff, decode_eff = t.decode_eff;
  write_text(cat / "gpus" / "probe-device.yaml",
             fmt::format("# A probed endpoint's hardware as the simulator sees it: effective rates fitted by\n"
                         "# servetwin calibrate fit (fit.json), not a datasheet.\nkind: gpu\nname: {}\naliases: []\n"
                         "vendor: nvidia  # required by the GPU schema; not used by the cost model\narchitecture: ampere  # idem\nmemory_bytes: {{value: 1024, unit: GiB, source: \"{}: KV from num_gpu_blocks_override\"}}\n"
                         "mem_bw_bytes_s: {{value: {:.6g}, source: \"{}: weight bytes / the decode GEMMs' memory-bound time (10^15 = free: compute-bound decode); attention cost via attn_decode_bw_eff\"}}\n"
                         "peak_fp16_flops: {{value: {:.6g}, source: \"{}: per prompt token {:.4g} s\"}}\n"
                         "usable_memory_bytes: {{value: 1024, unit: GiB, source: \"unused\"}}\n"
                         "peak_fp8_flops: {{value: 0, source: \"not probed\"}}\nsm_count: {{value: 1, source: \"unused\"}}\n"
                         "l2_bytes: {{value: 1, unit: MiB, source: \"unused\"}}\ntdp_watts: {{value: 1, source: \"unused\"}}\n"
                         "gpu_link: none\ngpu_link_bw_bytes_s: {{value: 0, source: \"TP1\"}}\npcie_gen: {{value: 4, source: \"unused\"}}\n",
                         o.device_name, src, mem_bw, src, peak, src, per_token_s));
  write_text(cat / "profiles" / "probe-device.yaml",
             fmt::format("kind: hardware_profile\nname: {0}\ngpu: {0}\ngemm_eff_max: {1}\ngemm_m_half_tokens: {2}\n"
                         "gemm_bw_eff: {3}\nattn_prefill_flops_eff: {4}\nattn_decode_bw_eff: {5}\nelementwise_bw_eff: {3}\n"
                         "step_overhead_ns: {6}\nlayer_overhead_ns: {6}\ncopy_bw_eff: {3}\n",
                         o.device_name,
                         t.gemm_eff < 1 ? sourced(t.gemm_eff, "fitted", src + ": gemm rate / the prefill attention rate (the peak)")
                                        : sourced(1, "fitted", src + ": gemm rate is the device peak"),
                         sourced(0, "assumed", "probe fit: no ramp"), sourced(1, "assumed", "probe fit: memory free"),
                         sourced(attn_eff, "fitted", src + ": TTFT p^2 term"),
                         sourced(decode_eff, "fitted", src + ": decode context term"),
                         sourced(0, "assumed", "probe fit: in the engine's cpu_step_ns")));
}

// The lone requests' TTFT, measured / fitted, in probe order: the front end's per-request spread, which the
// simulator samples per request (sim/engine/front_end_spread.hpp). Empty when the fit has fewer than 3 rows.
std::string ttft_spread_ratios(const ProbeFit& fit) {
  std::string out;
  if (fit.ttft_rows.size() < 3) return out;
  for (const auto& r : fit.ttft_rows) {
    if (r.predicted_s <= 0) return "";
    out += fmt::format("{}{:.4f}", out.empty() ? "" : ",", r.measured_s / r.predicted_s);
  }
  return out;
}

std::string engine_yaml(const ProbeFit& fit, const CatalogTerms& t, const ProbeCatalogOptions& o) {
  const std::string src = "servetwin calibrate fit of a probe (fit.json)";
  const auto& cc = fit.server_cache_config;
  const std::string spread = ttft_spread_ratios(fit);
  std::string spread_lines =
      spread.empty() ? "" : fmt::format("  api_ttft_spread_ratios: {{value: \"{}\", source: \"{}: lone requests' TTFT, measured / fitted\"}}\n", spread, src);
  if (!fit.step_spread.ratios.empty()) {
    spread_lines += fmt::format("  step_time_ratios: {{value: \"{:.3f}\", source: \"{}: quantiles of lone requests' inter-token gaps / "
                               "their request's mean gap, delivery share out ({} gaps of {} requests, lag-1 correlation {:.2f})\"}}\n",
                               fmt::join(fit.step_spread.ratios, ","), src, fit.step_spread.gaps, fit.step_spread.requests,
                               fit.step_spread.lag1_correlation);
  }
  return fmt::format(
      "# A probed vLLM-V1-style endpoint (servetwin calibrate fit). Scheduler rules as vllm-0.15 (V1: unified\n"
      "# token budget, chunked prefill, prefix caching, recompute preemption); costs fitted from the probe.\n"
      "kind: engine\nname: {}\naliases: []\nengine: vllm\nversion: \"{}\"\ndescription: \"fitted by servetwin calibrate fit\"\n"
      "settings:\n  scheduler: {{value: v1, source: \"probe: V1 engine\"}}\n"
      "  enable_chunked_prefill: {{value: true, source: \"vLLM V1 default\"}}\n"
      "  enable_prefix_caching: {{value: true, source: \"vLLM V1 default\"}}\n"
      "  prefix_cache_single_free_queue: {{value: true, source: \"vLLM V1 FreeKVCacheBlockQueue: one LRU of freed blocks\"}}\n"
      "  block_size: {{value: {}, source: \"{}\"}}\n  num_gpu_blocks_override: {{value: {}, source: \"{} less vLLM V1's null block\"}}\n"
      "  max_num_seqs: {{value: {}, source: \"{}\"}}\n  max_num_batched_tokens: {{value: {}, source: \"{}\"}}\n"
      "  watermark: {{value: 0, source: \"V1 has none\"}}\n"
      "  cpu_step_ns: {{value: {:.0f}, source: \"{}: decode intercept (less the weight reads when memory-bound)\"}}\n"
      "  cpu_seq_ns: {{value: {:.0f}, source: \"{}: decode per-sequence slope (less one token's GEMM and LM head when compute-bound)\"}}\n"
      "  cpu_layer_ns: {{value: 0, source: \"folded into cpu_step_ns\"}}\n"
      "  cuda_graph_decode: {{value: false, source: \"no per-layer term\"}}\n"
      "  custom_allreduce_max_bytes: {{value: 0, source: \"TP1\"}}\n"
      "  api_ttft_ns: {{value: {:.0f}, source: \"{}: TTFT intercept less one step\"}}\n"
      "  api_finish_ns: {{value: 0, source: \"not separable in a probe\"}}\n  api_token_ns: {{value: 0, source: \"in the step cost\"}}\n{}",
      o.engine_name, fit.server_engine.value("name", std::string("?")) + " " + fit.server_engine.value("version", std::string("?")),
      t.block, o.block_size > 0 ? "--block-size" : cc.contains("block_size") ? "server /metrics cache_config_info" : "assumed vLLM default",
      t.blocks, o.kv_blocks > 0 ? "--kv-blocks" : "server /metrics cache_config_info num_gpu_blocks",
      t.seqs, o.max_num_seqs > 0 ? "--max-num-seqs" : fmt::format("probe burst: {} of {} requests ran together", fit.admission_limit, fit.burst_requests),
      t.budget, o.max_num_batched_tokens > 0 ? "--max-num-batched-tokens" : "assumed: vLLM's API-server default 2048 on CPU / small GPUs",
      t.step_s * 1e9, src, t.seq_s * 1e9, src, t.api_s * 1e9, src, spread_lines);
}

void write_fit_json(const ProbeFit& fit, const CatalogTerms& t, const fs::path& out_dir) {
  json rows = json::array();
  for (const auto* set : {&fit.ttft_rows, &fit.decode_rows})
    for (const auto& r : *set)
      rows.push_back({{"phase", r.phase}, {"concurrency", r.stage_concurrency}, {"x", {r.x[0], r.x[1], r.x[2]}},
                      {"requests", r.requests}, {"measured_s", r.measured_s}, {"predicted_s", r.predicted_s}});
  const json doc = {
      {"schema", "servetwin.probe-fit.v1"},
      {"server_engine", fit.server_engine},
      {"ttft_s", {{"form", "a + b*p + c*p^2 (p prompt tokens, lone requests)"}, {"coef", fit.ttft.coef},
                  {"n", fit.ttft.n}, {"median_ape", fit.ttft.median_ape}, {"max_ape", fit.ttft.max_ape},
                  {"spread_ratios", ttft_spread_ratios(fit)}}},
      {"step_time_spread", {{"ratios", fit.step_spread.ratios}, {"gaps", fit.step_spread.gaps},
                            {"requests", fit.step_spread.requests},
                            {"lag1_correlation", fit.step_spread.lag1_correlation},
                            {"delivery_shrink", fit.step_spread.delivery_shrink},
                            {"form", "quantiles of a lone request's inter-token gap / its request's mean gap"}}},
      {"itl_s", {{"form", "s + q*batch + k*context_tokens_in_batch (prefill inside the span removed)"}, {"coef", fit.decode.coef},
                 {"rows", "one per decode stage: medians of its requests"},
                 {"n", fit.decode.n}, {"median_ape", fit.decode.median_ape}, {"max_ape", fit.decode.max_ape}}},
      {"admission_limit", fit.admission_limit},
      {"validity", {{"prompt_tokens", {fit.prompt_min, fit.prompt_max}}, {"decode_batch", {fit.batch_min, fit.batch_max}},
                    {"context_tokens_in_batch", {fit.context_min, fit.context_max}},
                    {"context_tokens_in_batch_max", fit.context_max}}},
      {"catalog", {{"peak_flops", t.peak}, {"gemm_eff_max", t.gemm_eff}, {"mem_bw_bytes_s", t.mem_bw}, {"attn_prefill_flops_eff", t.attn_eff}, {"attn_decode_bw_eff", t.decode_eff},
                   {"cpu_step_ns", t.step_s * 1e9}, {"cpu_seq_ns", t.seq_s * 1e9}, {"api_ttft_ns", t.api_s * 1e9},
                   {"block_size", t.block}, {"num_gpu_blocks_override", t.blocks}, {"max_num_seqs", t.seqs},
                   {"max_num_batched_tokens", t.budget}}},
      {"notes", fit.notes},
      {"rows", rows}};
  write_json_file(out_dir / "fit.json", doc);
}

}  // namespace

std::string write_probe_catalog(const ProbeFit& fit, const ProbeCatalogOptions& o) {
  const fs::path cat = o.out_dir / "catalog";
  fs::create_directories(o.out_dir);
  fs::remove_all(cat);
  fs::copy(o.base_config_dir, cat, fs::copy_options::recursive);
  std::string model = o.model;
  if (!o.hf_config.empty()) {
    model = o.model_name.empty() ? fit.server_engine.value("model", std::string("probe-model")) : o.model_name;
    write_text(cat / "models" / "probe-model.yaml", model_yaml_from_hf(o.hf_config, model));
  }
  if (model.empty()) throw ConfigError("calibrate fit --in probe.json needs --model ID or --hf-config config.json");
  const ModelSpec m = Catalog::load(cat).model(model);
  const CatalogTerms t = catalog_terms(fit, m, o);
  write_device(cat, t, o);
  write_text(cat / "engines" / "probe-engine.yaml", engine_yaml(fit, t, o));
  (void)Catalog::load(cat);  // everything written must load
  std::string flags = fmt::format("--config-dir {} --model {} --gpu {} --engine {}", fs::absolute(cat).string(), model,
                                        o.device_name, o.engine_name);
  write_text(o.out_dir / "predict-flags.txt", flags + "\n");
  write_fit_json(fit, t, o.out_dir);
  return flags;
}

}  // namespace servetwin::calibrate
