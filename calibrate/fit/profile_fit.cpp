#include "calibrate/fit/profile_fit.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <tuple>

#include "calibrate/core/model_shapes.hpp"
#include "calibrate/published/published.hpp"
#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {

namespace {

// Kernel counts per transformer layer per step that carry a fixed latency the cost model has no
// term for (it is folded into layer_overhead_ns): qkv, o, gate_up, down GEMMs; the elementwise
// kernels Vidur profiles per layer (2 RMSNorms, RoPE, SiLU-mul, residual add); one attention kernel.
constexpr double kGemmsPerLayer = 4;
constexpr double kElementwisePerLayer = 5;
constexpr double kAttentionPerLayer = 1;

std::string joined(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Paths under ../shared are cited relative to it ("calibration/vidur/..."), so profiles do not
// record the checkout location.
std::string cite(const std::string& path) {
  const auto pos = path.find("calibration/");
  return pos == std::string::npos ? path : "../shared/" + path.substr(pos);
}

double elem_bytes_of(const std::string& dtype) {
  if (dtype == "fp16" || dtype == "bf16") return 2;
  if (dtype == "fp32") return 4;
  throw ConfigError("calibration data: dtype '" + dtype + "' (allowed: fp16, bf16, fp32)");
}

Param fitted(double v, const std::string& source) { return Param{v, "fitted", source}; }
Param assumed(double v, const std::string& why) { return Param{v, "assumed", why}; }

std::string q(const std::string& s) {  // YAML double-quoted scalar
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}
std::string num(double v) { return fmt::format("{:.6g}", v); }

}  // namespace

LatencyRate fit_latency_rate(const std::vector<double>& x, const std::vector<double>& t_ns) {
  LatencyRate r;
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (x[i] > 0 && t_ns[i] > 0) idx.push_back(i);
  if (idx.size() < 2) throw std::invalid_argument("latency/rate fit needs at least 2 points");
  const auto rows = static_cast<Eigen::Index>(idx.size());
  Eigen::MatrixXd a(rows, 2);
  Eigen::VectorXd b = Eigen::VectorXd::Ones(rows);
  r.x_min = 1e300;
  for (Eigen::Index i = 0; i < rows; ++i) {
    const std::size_t j = idx[static_cast<std::size_t>(i)];
    a(i, 0) = 1.0 / t_ns[j];  // rows scaled by 1/t: relative error
    a(i, 1) = x[j] / t_ns[j];
    r.x_min = std::min(r.x_min, x[j]);
    r.x_max = std::max(r.x_max, x[j]);
  }
  Eigen::Vector2d c = a.colPivHouseholderQr().solve(b);
  if (c(0) < 0) {
    c(0) = 0;
    c(1) = a.col(1).dot(b) / a.col(1).squaredNorm();
  }
  if (c(1) <= 0) throw std::invalid_argument("latency/rate fit: time does not grow with size");
  r.latency_ns = c(0);
  r.rate = 1e9 / c(1);
  std::vector<double> ape;
  ape.reserve(idx.size());
  for (const std::size_t j : idx) ape.push_back(std::abs(r.latency_ns + x[j] / r.rate * 1e9 - t_ns[j]) / t_ns[j]);
  r.errors = summarize_errors(ape);
  r.n = idx.size();
  return r;
}

ProfileFit fit_profile(const CalibrationData& data, const ProfileFitOptions& options) {
  ProfileFit f;
  f.device_kind = data.device.kind;
  f.dtype = data.dtype;
  elem_bytes_of(f.dtype);  // validates
  f.device_name = data.device.name;
  f.date_utc = data.date_utc;
  for (const auto& s : data.sources) f.sources.push_back(cite(s));
  f.notes = data.notes;
  f.peak_fp16_flops = options.peak_fp16_flops > 0 ? options.peak_fp16_flops : data.device.peak_fp16_flops;
  f.mem_bw_bytes_s = options.mem_bw_bytes_s > 0 ? options.mem_bw_bytes_s : data.device.mem_bw_bytes_s;
  f.peak_source = options.peak_fp16_flops > 0 ? "command line" : data.device.peak_source;
  if (!(f.peak_fp16_flops > 0) || !(f.mem_bw_bytes_s > 0))
    throw ConfigError("calibration data has no peak FLOP/s or bandwidth to fit efficiencies against "
                      "(pass --gpu NAME or --peak-flops/--mem-bw)");
  HardwareProfile& p = f.profile;
  p.name = !options.name.empty() ? options.name : (!data.device.gpu.empty() ? data.device.gpu : data.device.name);
  p.gpu = !data.device.gpu.empty() ? data.device.gpu : p.name;
  const std::string what = data.device.kind == "published" ? "fitted from published " : "fitted from own run ";
  const std::string src = what + joined(f.sources, ", ");

  // GEMM: the recommended form (latency + roofline); the cost model's form is fitted too so the
  // profile records what the current cost model would get.
  if (data.gemm.size() >= 3) {
    f.has_gemm = true;
    GemmFitOptions rec = GemmFitOptions::recommended(), plain = GemmFitOptions::cost_model_form(),
                   full = GemmFitOptions::recommended();
    full.fit_m_half = true;
    rec.elem_bytes = plain.elem_bytes = full.elem_bytes = elem_bytes_of(data.dtype);
    f.gemm = fit_gemm(data.gemm, f.peak_fp16_flops, f.mem_bw_bytes_s, rec);
    // The 4-parameter form (m_half free as well) is taken only when it is clearly better in sample
    // (> 20% lower median APE) and, for GPUs, physical (efficiencies <= 1: against datasheet peaks a
    // larger value means the parameters are trading off, not measuring). On held-out Vidur data the
    // 3-parameter form generalises as well (tests/calibrate/heldout_fit_test.cpp).
    const GemmFit four = fit_gemm(data.gemm, f.peak_fp16_flops, f.mem_bw_bytes_s, full);
    const bool physical = data.device.kind == "cpu" || (four.model.eff_max <= 1.0 && four.model.bw_eff <= 1.0);
    if (physical && four.in_sample.median_ape < 0.8 * f.gemm.in_sample.median_ape) f.gemm = four;
    f.gemm_cost_model_fit = fit_gemm(data.gemm, f.peak_fp16_flops, f.mem_bw_bytes_s, plain);
    f.gemm_cost_model_form = f.gemm_cost_model_fit.in_sample;
    const std::string gs = fmt::format("{} ({} GEMM points, M {}-{}, median APE {:.1f}%)", src, data.gemm.size(),
                                       f.gemm.in_sample.m_min, f.gemm.in_sample.m_max,
                                       100 * f.gemm.in_sample.median_ape);
    p.gemm_eff_max = fitted(f.gemm.model.eff_max, gs);
    p.gemm_m_half_tokens =
        f.gemm.model.m_half_tokens > 0
            ? fitted(f.gemm.model.m_half_tokens, gs)
            : fitted(0, gs + "; the selected form has a flat plateau: the small-M cost is the bandwidth floor plus "
                             "fit.gemm.latency_ns");
    p.gemm_bw_eff = fitted(f.gemm.model.bw_eff, gs);
  } else {
    p.gemm_eff_max = assumed(0.7, "assumed: no GEMM data; ~70% of dense peak (hardware_and_models.md §5.1)");
    p.gemm_m_half_tokens = assumed(0, "assumed: no GEMM data");
    p.gemm_bw_eff = assumed(0.8, "assumed: no GEMM data; ~75-85% of peak HBM (hardware_and_models.md §5.1)");
  }

  std::vector<double> x, t;
  for (const auto& b : data.bandwidth)
    if (b.bench == "elementwise") x.push_back(b.bytes), t.push_back(b.time_ns);
  if (x.size() >= 2) {
    f.has_elementwise = true;
    f.elementwise = fit_latency_rate(x, t);
    p.elementwise_bw_eff = fitted(f.elementwise.rate / f.mem_bw_bytes_s,
                                  fmt::format("{} ({} elementwise points, median APE {:.1f}%)", src, f.elementwise.n,
                                              100 * f.elementwise.errors.median_ape));
  } else {
    p.elementwise_bw_eff = assumed(0.7, "assumed: no elementwise data");
  }

  x.clear(), t.clear();
  for (const auto& b : data.bandwidth)
    if (b.bench == "mem_copy") x.push_back(b.bytes), t.push_back(b.time_ns);
  if (x.size() >= 2) {
    f.has_copy = true;
    f.copy = fit_latency_rate(x, t);
    p.copy_bw_eff = fitted(f.copy.rate / f.mem_bw_bytes_s, fmt::format("{} ({} copy points)", src, f.copy.n));
  } else {
    p.copy_bw_eff = Param{p.elementwise_bw_eff.value, "assumed",
                          "assumed: no device-to-device copy data; a copy streams like an elementwise kernel, so "
                          "elementwise_bw_eff is used"};
  }

  std::vector<double> xd, td;
  x.clear(), t.clear();
  for (const auto& a : data.attention) {
    if (a.phase == "prefill") x.push_back(a.flops), t.push_back(a.time_ns);
    if (a.phase == "decode") xd.push_back(a.kv_bytes), td.push_back(a.time_ns);
  }
  if (x.size() >= 2) {
    f.has_prefill = true;
    f.prefill = fit_latency_rate(x, t);
    p.attn_prefill_flops_eff =
        fitted(f.prefill.rate / f.peak_fp16_flops,
               fmt::format("{} ({} prefill points, causal FLOPs 4*h*d*(q*kv + q(q+1)/2), median APE {:.1f}%)", src,
                           f.prefill.n, 100 * f.prefill.errors.median_ape));
  } else {
    p.attn_prefill_flops_eff = assumed(0.3, "assumed: no prefill-attention data for this GPU (BLIS mfuPrefill 0.38-0.45 "
                                            "is end-to-end; hardware_and_models.md §5.3)");
  }
  if (xd.size() >= 2) {
    f.has_decode = true;
    f.decode = fit_latency_rate(xd, td);
    p.attn_decode_bw_eff = fitted(f.decode.rate / f.mem_bw_bytes_s,
                                  fmt::format("{} ({} decode points, K+V bytes read, median APE {:.1f}%)", src,
                                              f.decode.n, 100 * f.decode.errors.median_ape));
  } else {
    p.attn_decode_bw_eff = assumed(0.51, "assumed: no decode-attention data for this GPU; BLIS decode KV-read "
                                         "correction 1.95 = ~51% of peak BW (hardware_and_models.md §5.3)");
  }

  // Per-kernel latencies the cost model lacks a term for, folded into the per-layer overhead.
  double layer_ns = 0;
  std::vector<std::string> parts;
  if (f.has_gemm) layer_ns += kGemmsPerLayer * f.gemm.model.latency_ns, parts.emplace_back("4 GEMM latencies");
  if (f.has_elementwise)
    layer_ns += kElementwisePerLayer * f.elementwise.latency_ns, parts.emplace_back("5 elementwise latencies");
  if (f.has_decode) layer_ns += kAttentionPerLayer * f.decode.latency_ns, parts.emplace_back("1 decode-attention latency");
  if (!parts.empty()) {
    p.layer_overhead_ns = fitted(layer_ns, src + "; sum of fitted per-kernel latencies (" + joined(parts, " + ") +
                                               "). Kernel-side only: excludes host launch gaps");
  } else {
    p.layer_overhead_ns = assumed(32100, "assumed: BLIS beta5 32.1 us per layer per step, vLLM v0.14 on H100 "
                                         "(hardware_and_models.md §5.5)");
  }
  p.step_overhead_ns = assumed(126000, "assumed: BLIS beta7 126 us per step (CUDA sync, sampler), vLLM v0.14 on H100 "
                                       "(hardware_and_models.md §5.5); engine-specific, fit with `calibrate engine`");

  // All-reduce per system and TP, on the full size range (the held-out test shows why: sizes
  // <= 4 MB do not determine large-message bandwidth).
  std::map<std::string, std::vector<CollectivePoint>> by_system;
  for (const auto& c : data.collectives)
    if (c.correct) by_system[c.system].push_back(c);
  for (const auto& [sys, pts] : by_system)
    f.allreduce[sys] = fit_allreduce(pts, 0, 1e300, true, vidur_switched_nvlink(sys));

  std::vector<std::string> launch;
  for (const auto& l : data.launch) launch.push_back(fmt::format("{} {:.0f} ns/launch", l.mode, l.per_launch_ns));
  if (!launch.empty()) f.notes.push_back("launch overhead: " + joined(launch, ", "));
  p.notes = fmt::format("{} {} profile for {} ({}). Valid for fp16/bf16 dense GEMMs at M {}-{} tokens.",
                        data.device.kind == "published" ? "Published-data" : "Measured", data.device.kind, p.gpu,
                        data.device.name, f.has_gemm ? f.gemm.in_sample.m_min : 0,
                        f.has_gemm ? f.gemm.in_sample.m_max : 0);
  return f;
}

void splitwise_decode_check(ProfileFit& fit, const std::vector<SplitwiseRow>& rows, const std::string& hardware,
                            const ModelGeometry& llama2_70b) {
  ProfileFit& f = fit;  // short names for the formulas below
  const ModelGeometry& g = llama2_70b;
  const HardwareProfile& p = f.profile;
  // Medians of token_time per (TP, batch, prompt) over the rows with 128 output tokens (the rows whose
  // e2e time is consistent, per the Splitwise README).
  std::map<std::tuple<int, double, double>, std::vector<double>> groups;
  for (const auto& r : rows)
    if (r.model == "llama2-70b" && r.hardware == hardware && r.token_size == 128)
      groups[{r.tp, r.batch_size, r.prompt_size}].push_back(r.token_time_ms);
  std::vector<double> residual_ms, ape;
  for (auto& [key, times] : groups) {
    const auto [tp, batch, prompt] = key;
    std::sort(times.begin(), times.end());
    const double measured_ns = times[times.size() / 2] * 1e6;
    const double ctx = prompt + 64;  // mean context over 128 generated tokens
    double layer_ns = p.layer_overhead_ns.value;
    for (const auto& s : gemm_shapes(g, tp, false))
      layer_ns += f.gemm.model.predict_ns(batch, s.n, s.k, f.peak_fp16_flops, f.mem_bw_bytes_s, s.op);
    const double kv_heads = std::max(1, g.heads_kv / tp);
    layer_ns += attention_kv_bytes(batch, ctx, kv_heads, g.head_dim) / (f.mem_bw_bytes_s * p.attn_decode_bw_eff.value) * 1e9;
    for (const char* op : {"rmsnorm", "rmsnorm", "rope", "silu_mul", "add"})
      layer_ns += elementwise_bytes(op, batch, g, tp) / (f.mem_bw_bytes_s * p.elementwise_bw_eff.value) * 1e9;
    double ar_ns = 0;
    for (const auto& [sys, models] : f.allreduce) {
      const auto it = models.find(tp);
      if (it != models.end()) ar_ns = it->second.predict_ns(batch * g.hidden * 2.0);
    }
    layer_ns += 2 * ar_ns;
    // NOLINTNEXTLINE(bugprone-integer-division): a GPU's LM-head shard is a whole number of vocabulary rows
    const double lm_ns = f.gemm.model.predict_ns(batch, g.vocab / tp, g.hidden, f.peak_fp16_flops, f.mem_bw_bytes_s, "lm_head");
    const double predicted_ns = g.layers * layer_ns + lm_ns;
    residual_ms.push_back((measured_ns - predicted_ns) / 1e6);
    ape.push_back(std::abs(predicted_ns - measured_ns) / measured_ns);
    f.splitwise_lines.push_back(fmt::format("{{tp: {}, batch: {}, prompt: {}, measured_ms: {:.2f}, kernels_ms: {:.2f}, "
                                            "residual_ms: {:.2f}}}",
                                            tp, batch, prompt, measured_ns / 1e6, predicted_ns / 1e6,
                                            (measured_ns - predicted_ns) / 1e6));
  }
  if (!residual_ms.empty()) {
    std::sort(residual_ms.begin(), residual_ms.end());
    f.notes.push_back(fmt::format("Splitwise vLLM Llama-2-70B decode ({}, {} configurations): predicted kernel time "
                                  "is below the measured token time by a median {:.1f} ms per step (engine time, "
                                  "not in this profile); kernel-only median APE {:.0f}%",
                                  hardware, residual_ms.size(), residual_ms[residual_ms.size() / 2],
                                  100 * summarize_errors(ape).median_ape));
    f.sources.emplace_back("../shared/calibration/splitwise/perf_model.csv (decode check only)");
  }
}

std::string profile_yaml(const ProfileFit& f) {
  const HardwareProfile& p = f.profile;
  std::string y;
  y += "# Written by `servetwin calibrate fit` (calibrate/fit/profile_fit.cpp). Do not edit by hand: refit.\n";
  y += "kind: hardware_profile\n";
  y += "name: " + q(p.name) + "\n";
  y += "gpu: " + q(p.gpu) + "\n";
  auto param = [&](const char* key, const Param& v) {
    y += fmt::format("{}: {{value: {}, provenance: {}, source: {}}}\n", key, num(v.value), v.provenance, q(v.source));
  };
  param("gemm_eff_max", p.gemm_eff_max);
  param("gemm_m_half_tokens", p.gemm_m_half_tokens);
  param("gemm_bw_eff", p.gemm_bw_eff);
  param("attn_prefill_flops_eff", p.attn_prefill_flops_eff);
  param("attn_decode_bw_eff", p.attn_decode_bw_eff);
  param("elementwise_bw_eff", p.elementwise_bw_eff);
  param("step_overhead_ns", p.step_overhead_ns);
  param("layer_overhead_ns", p.layer_overhead_ns);
  param("copy_bw_eff", p.copy_bw_eff);
  y += "notes: " + q(p.notes) + "\n";
  y += "fit:\n";
  y += "  tool: servetwin calibrate fit\n";
  y += "  date_utc: " + q(f.date_utc) + "\n";
  y += "  device_kind: " + f.device_kind + "\n";
  y += "  dtype: " + f.dtype + "\n";
  y += "  device_name: " + q(f.device_name) + "\n";
  y += "  peak_fp16_flops: " + num(f.peak_fp16_flops) + "\n";
  y += "  mem_bw_bytes_s: " + num(f.mem_bw_bytes_s) + "\n";
  y += "  peak_source: " + q(f.peak_source) + "\n";
  y += "  sources: [" ;
  for (std::size_t i = 0; i < f.sources.size(); ++i) y += (i ? ", " : "") + q(f.sources[i]);
  y += "]\n";
  auto errs = [&](const ErrorStats& e) {
    return fmt::format("{{points: {}, median_ape: {}, p90_ape: {}, max_ape: {}}}", e.n, num(e.median_ape),
                       num(e.p90_ape), num(e.max_ape));
  };
  if (f.has_gemm) {
    const auto& g = f.gemm.model;
    y += "  gemm:\n";
    y += "    form: \"t = latency_ns + max(2*M*N*K / (peak*eff_max*M/(M+m_half)), elem*(K*N + M*K + M*N) / "
         "(mem_bw*bw_eff))\"\n";
    y += fmt::format("    m_half_tokens: {}\n", num(g.m_half_tokens));
    y += fmt::format("    eff_max: {}\n    bw_eff: {}\n    latency_ns: {}\n", num(g.eff_max), num(g.bw_eff),
                     num(g.latency_ns));
    y += fmt::format("    valid_m_tokens: [{}, {}]\n", num(f.gemm.in_sample.m_min), num(f.gemm.in_sample.m_max));
    y += "    residuals: " + errs(f.gemm.in_sample) + "\n";
    const auto& c = f.gemm_cost_model_fit.model;
    y += "    cost_model_form:  # eff_max * M/(M+m_half), weight bytes only, no latency: what the current cost model gets\n";
    y += fmt::format("      eff_max: {}\n      m_half_tokens: {}\n      bw_eff: {}\n", num(c.eff_max),
                     num(c.m_half_tokens), num(c.bw_eff));
    y += "      residuals: " + errs(f.gemm_cost_model_form) + "\n";
  }
  auto lr = [&](const char* key, bool has, const LatencyRate& r, const char* unit) {
    if (!has) return;
    y += fmt::format("  {}: {{latency_ns: {}, rate_{}: {}, x_range: [{}, {}], residuals: {}}}\n", key,
                     num(r.latency_ns), unit, num(r.rate), num(r.x_min), num(r.x_max), errs(r.errors));
  };
  lr("elementwise", f.has_elementwise, f.elementwise, "bytes_s");
  lr("copy", f.has_copy, f.copy, "bytes_s");
  lr("attn_prefill", f.has_prefill, f.prefill, "flops");
  lr("attn_decode", f.has_decode, f.decode, "bytes_s");
  if (!f.allreduce.empty()) {
    y += "  allreduce:  # t = max(floor_ns, min(latency_ns + 2(n-1)/n * bytes / bus_bw_bytes_s, simple line if any)), "
         "per system and TP\n";
    for (const auto& [sys, models] : f.allreduce)
      for (const auto& [n, m] : models) {
        const std::string simple = m.simple_bus_bw_bytes_s > 0
                                       ? fmt::format("simple_latency_ns: {}, simple_bus_bw_bytes_s: {}, ",
                                                     num(m.simple_latency_ns), num(m.simple_bus_bw_bytes_s))
                                       : std::string();
        y += fmt::format("    - {{system: {}, tp: {}, latency_ns: {}, bus_bw_bytes_s: {}, floor_ns: {}, {}"
                         "bytes_range: [{}, {}], residuals: {}}}\n",
                         q(sys), n, num(m.latency_ns), num(m.bus_bw_bytes_s), num(m.floor_ns), simple,
                         num(m.min_bytes), num(m.max_bytes), errs(m.in_sample));
      }
  }
  if (!f.splitwise_lines.empty()) {
    y += "  splitwise_decode:  # Llama-2-70B per-token decode: Splitwise (vLLM) measured vs this profile's kernels\n";
    for (const auto& l : f.splitwise_lines) y += "    - " + l + "\n";
  }
  if (!f.notes.empty()) {
    y += "  notes:\n";
    for (const auto& n : f.notes) y += "    - " + q(n) + "\n";
  }
  return y;
}

void write_profile(const ProfileFit& fit, const std::filesystem::path& path) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << profile_yaml(fit);
}

LoadedProfile load_profile(const std::filesystem::path& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    throw ConfigError(path.string() + ": " + e.what());
  }
  LoadedProfile lp;
  auto param = [&](const char* key, Param& out) {
    const YAML::Node n = root[key];
    if (!n || !n["value"]) throw ConfigError(path.string() + ": missing key '" + std::string(key) + "'");
    out.value = n["value"].as<double>();
    out.provenance = n["provenance"] ? n["provenance"].as<std::string>() : "";
    out.source = n["source"] ? n["source"].as<std::string>() : "";
  };
  try {
    if (!root["kind"] || root["kind"].as<std::string>() != "hardware_profile")
      throw ConfigError(path.string() + ": key 'kind' must be hardware_profile");
    lp.profile.name = root["name"].as<std::string>();
    lp.profile.gpu = root["gpu"].as<std::string>();
    param("gemm_eff_max", lp.profile.gemm_eff_max);
    param("gemm_m_half_tokens", lp.profile.gemm_m_half_tokens);
    param("gemm_bw_eff", lp.profile.gemm_bw_eff);
    param("attn_prefill_flops_eff", lp.profile.attn_prefill_flops_eff);
    param("attn_decode_bw_eff", lp.profile.attn_decode_bw_eff);
    param("elementwise_bw_eff", lp.profile.elementwise_bw_eff);
    param("step_overhead_ns", lp.profile.step_overhead_ns);
    param("layer_overhead_ns", lp.profile.layer_overhead_ns);
    param("copy_bw_eff", lp.profile.copy_bw_eff);
    const YAML::Node fit = root["fit"];
    if (!fit || !fit["peak_fp16_flops"] || !fit["mem_bw_bytes_s"])
      throw ConfigError(path.string() + ": missing fit.peak_fp16_flops / fit.mem_bw_bytes_s");
    lp.peak_fp16_flops = fit["peak_fp16_flops"].as<double>();
    lp.mem_bw_bytes_s = fit["mem_bw_bytes_s"].as<double>();
    if (fit["gemm"] && fit["gemm"]["latency_ns"]) lp.gemm_latency_ns = fit["gemm"]["latency_ns"].as<double>();
    if (fit["elementwise"] && fit["elementwise"]["latency_ns"])
      lp.elementwise_latency_ns = fit["elementwise"]["latency_ns"].as<double>();
    if (fit["dtype"]) lp.elem_bytes = elem_bytes_of(fit["dtype"].as<std::string>());
  } catch (const YAML::Exception& e) {
    throw ConfigError(path.string() + ": " + e.what());
  }
  return lp;
}

CheckResult check_profile(const LoadedProfile& profile, const CalibrationData& data) {
  const LoadedProfile& lp = profile;  // lp.profile reads better than profile.profile
  CheckResult r;
  GemmModel g;
  g.eff_max = lp.profile.gemm_eff_max.value;
  g.m_half_tokens = lp.profile.gemm_m_half_tokens.value;
  g.bw_eff = lp.profile.gemm_bw_eff.value;
  g.latency_ns = lp.gemm_latency_ns;
  g.activation_bytes = true;
  g.elem_bytes = lp.elem_bytes;
  r.gemm = gemm_errors(g, data.gemm, lp.peak_fp16_flops, lp.mem_bw_bytes_s);
  for (const auto& p : data.gemm) {
    const double pred = g.predict_ns(p, lp.peak_fp16_flops, lp.mem_bw_bytes_s);
    r.lines.push_back(fmt::format("gemm {:<8} tp{} M={:<6} N={:<6} K={:<6} measured {:>10.1f} us  predicted {:>10.1f} us  "
                                  "{:+6.1f}%",
                                  p.op, p.tp, p.m, p.n, p.k, p.time_ns / 1e3, pred / 1e3,
                                  100 * (pred - p.time_ns) / p.time_ns));
  }
  std::vector<double> ape;
  for (const auto& b : data.bandwidth) {
    if (b.bench != "elementwise") continue;
    const double pred =
        lp.elementwise_latency_ns + b.bytes / (lp.mem_bw_bytes_s * lp.profile.elementwise_bw_eff.value) * 1e9;
    ape.push_back(std::abs(pred - b.time_ns) / b.time_ns);
  }
  r.elementwise = summarize_errors(ape);
  return r;
}

}  // namespace servetwin::calibrate
