// The catalog's per-kind readers (spec_parsers.hpp).
#include "sim/catalog/spec_parsers.hpp"

#include <fmt/format.h>

#include <set>

#include "sim/catalog/catalog.hpp"
#include "sim/core/path_check.hpp"

namespace servetwin::catalog_detail {

using yamlx::Dim;
using yamlx::MapReader;
using yamlx::Range;

std::vector<std::string> with_common(std::vector<std::string> keys) {
  keys.insert(keys.begin(), {"kind", "name"});
  keys.emplace_back("notes");
  return keys;
}

ModelSpec parse_model(const MapReader& r) {
  ModelSpec m;
  m.name = r.str("name", true);
  m.aliases = r.string_list("aliases");
  m.family = r.str("family", true);
  m.tokenizer = r.str("tokenizer", true);
  m.num_layers = r.sourced_int("num_layers", Range::between(1, 1000), true);
  m.hidden_size = r.sourced_int("hidden_size", Range::between(1, 1 << 20), true);
  m.intermediate_size = r.sourced_int("intermediate_size", Range::between(1, 1 << 22), true);
  m.num_attention_heads = r.sourced_int("num_attention_heads", Range::between(1, 4096), true);
  m.num_kv_heads = r.sourced_int("num_kv_heads", Range::between(1, 4096), true);
  m.head_dim = r.sourced_int("head_dim", Range::between(1, 4096), true);
  m.vocab_size = r.sourced_int("vocab_size", Range::between(1, 1 << 24), true);
  m.max_position_embeddings = r.sourced_int("max_position_embeddings", Range::between(1, 1 << 24), true);
  m.tie_word_embeddings = r.boolean("tie_word_embeddings", true);
  m.gated_mlp = r.boolean("gated_mlp", true);
  m.num_experts = r.sourced_int("num_experts", Range::between(0, 1024), false, 0);
  m.experts_per_token = r.sourced_int("experts_per_token", Range::between(0, 1024), false, 0);
  m.shared_experts = r.sourced_int("shared_experts", Range::between(0, 64), false, 0);
  if (m.num_experts == 0 && m.shared_experts != 0) {
    r.fail_at("shared_experts", "set on a dense model (num_experts is 0)", "0 or absent");
  }
  m.moe_layer_step = r.sourced_int("moe_layer_step", Range::between(1, 64), false, 1);
  m.dense_intermediate_size = r.sourced_int("dense_intermediate_size", Range::between(0, 1 << 22), false, 0);
  if (m.moe_layer_step > 1 && m.num_experts == 0) {
    r.fail_at("moe_layer_step", "set on a dense model (num_experts is 0)", "1 or absent");
  }
  if (m.moe_layer_step > 1 && m.dense_intermediate_size == 0) {
    r.fail_at("dense_intermediate_size", "missing: the dense layers between MoE layers need their FFN size",
              "the dense layers' intermediate size (> 0)");
  }
  m.sliding_window = r.sourced_int("sliding_window", Range::between(0, 1 << 24), false, 0);
  if (m.num_attention_heads % m.num_kv_heads != 0) {
    r.fail_at("num_kv_heads", fmt::format("{} does not divide num_attention_heads {}", m.num_kv_heads,
                                          m.num_attention_heads),
              "a divisor of num_attention_heads");
  }
  if (m.num_experts > 0 && (m.experts_per_token < 1 || m.experts_per_token > m.num_experts)) {
    r.fail_at("experts_per_token", fmt::format("{} with {} experts", m.experts_per_token, m.num_experts),
              fmt::format("1..{}", m.num_experts));
  }
  if (m.num_experts == 0 && m.experts_per_token != 0) {
    r.fail_at("experts_per_token", "set on a dense model (num_experts is 0)", "0 or absent");
  }
  return m;
}

GpuSpec parse_gpu(const MapReader& r) {
  GpuSpec g;
  g.name = r.str("name", true);
  g.aliases = r.string_list("aliases");
  g.vendor = r.enumeration("vendor", {"nvidia", "amd"}, true);
  g.architecture = r.enumeration("architecture", {"ampere", "ada", "hopper", "blackwell", "cdna3"}, true);
  g.memory_bytes = r.sourced("memory_bytes", Range::positive(), Dim::kBytes, true);
  g.usable_memory_bytes = r.sourced("usable_memory_bytes", Range::positive(), Dim::kBytes, true);
  if (g.usable_memory_bytes > g.memory_bytes) {
    r.fail_at("usable_memory_bytes", "larger than memory_bytes", fmt::format("<= {}", g.memory_bytes));
  }
  g.mem_bw_bytes_s = r.sourced("mem_bw_bytes_s", Range::positive(), Dim::kBytesPerSecond, true);
  g.peak_fp16_flops = r.sourced("peak_fp16_flops", Range::positive(), Dim::kFlops, true);
  g.peak_fp8_flops = r.sourced("peak_fp8_flops", Range::non_negative(), Dim::kFlops, true);
  g.peak_fp4_flops = r.sourced("peak_fp4_flops", Range::non_negative(), Dim::kFlops, false);
  g.sm_count = r.sourced_int("sm_count", Range::between(1, 10000), true);
  g.l2_bytes = r.sourced("l2_bytes", Range::positive(), Dim::kBytes, true);
  g.tdp_watts = r.sourced("tdp_watts", Range::positive(), Dim::kNone, true);
  g.gpu_link = r.enumeration("gpu_link", {"none", "nvlink3", "nvlink4", "nvlink5", "nvlink-bridge", "infinity-fabric"}, true);
  g.gpu_link_bw_bytes_s = r.sourced("gpu_link_bw_bytes_s", Range::non_negative(), Dim::kBytesPerSecond, true);
  g.pcie_gen = r.sourced_int("pcie_gen", Range::between(3, 6), true);
  g.server_interconnect = r.str("server_interconnect", false);
  return g;
}

InterconnectSpec parse_interconnect(const MapReader& r) {
  InterconnectSpec ic;
  ic.name = r.str("name", true);
  ic.kind = r.enumeration("topology", {"nvswitch", "nvlink-pairs", "pcie", "none"}, true);
  ic.description = r.str("description", true);
  std::set<int> seen;
  for (const auto& p : r.child_list("allreduce", {"tp", "latency_ns", "custom_latency_ns", "bus_bw_bytes_s", "notes"},
                                    ic.kind != "none")) {
    AllReducePoint pt;
    pt.tp = p.plain_int("tp", Range::between(2, 1024), true);
    if (!seen.insert(pt.tp).second) p.fail_at("tp", fmt::format("duplicate tp {}", pt.tp), "each tp once");
    pt.latency_ns = p.sourced("latency_ns", Range::positive(), Dim::kNanoseconds, true);
    pt.custom_latency_ns = p.sourced("custom_latency_ns", Range::non_negative(), Dim::kNanoseconds, false, 0);
    pt.bus_bw_bytes_s = p.sourced("bus_bw_bytes_s", Range::positive(), Dim::kBytesPerSecond, true);
    ic.allreduce.push_back(pt);
  }
  if (ic.kind == "none" && !ic.allreduce.empty()) {
    r.fail_at("allreduce", "a single-GPU topology has no all-reduce", "absent or [] with topology: none");
  }
  std::sort(ic.allreduce.begin(), ic.allreduce.end(),
            [](const AllReducePoint& a, const AllReducePoint& b) { return a.tp < b.tp; });
  return ic;
}

InstanceSpec parse_instance(const MapReader& r) {
  InstanceSpec in;
  in.name = r.str("name", true);
  in.provider = r.enumeration("provider", {"aws"}, true);
  in.gpu = r.str("gpu", true);
  in.gpu_count = r.sourced_int("gpu_count", Range::between(1, 64), true);
  in.interconnect = r.str("interconnect", true);
  in.vcpus = r.sourced_int("vcpus", Range::between(1, 4096), true);
  in.host_memory_bytes = r.sourced("host_memory_bytes", Range::positive(), Dim::kBytes, true);
  const MapReader od = r.child("on_demand", {"usd_per_hour", "available", "reason", "date", "region"});
  in.on_demand.has_price = od.boolean("available", false, true);
  if (in.on_demand.has_price) {
    in.on_demand.usd_per_hour = od.sourced("usd_per_hour", Range::positive(), Dim::kNone, true);
    if (od.has("reason")) od.fail_at("reason", "only for entries without a price", "absent when available");
  } else {
    if (od.has("usd_per_hour")) {
      od.fail_at("usd_per_hour", "price given with available: false", "absent when available is false");
    }
    od.str("reason", true);
  }
  in.on_demand.date = od.str("date", true);
  const std::string& d = in.on_demand.date;
  const bool date_ok = d.size() == 10 && d[4] == '-' && d[7] == '-' &&
                       std::all_of(d.begin(), d.end(), [](char c) { return c == '-' || (c >= '0' && c <= '9'); });
  if (!date_ok) od.fail_at("date", fmt::format("bad date '{}'", d), "YYYY-MM-DD");
  in.on_demand.region = od.str("region", true);
  return in;
}

HardwareProfile parse_profile(const MapReader& r) {
  HardwareProfile p;
  p.name = r.str("name", true);
  p.gpu = r.str("gpu", true);
  p.gemm_eff_max = r.param("gemm_eff_max", Range::fraction(), Dim::kNone);
  p.gemm_m_half_tokens = r.param("gemm_m_half_tokens", Range::non_negative(), Dim::kNone);
  p.gemm_bw_eff = r.param("gemm_bw_eff", Range::fraction(), Dim::kNone);
  p.attn_prefill_flops_eff = r.param("attn_prefill_flops_eff", Range::fraction(), Dim::kNone);
  p.attn_decode_bw_eff = r.param("attn_decode_bw_eff", Range::fraction(), Dim::kNone);
  p.elementwise_bw_eff = r.param("elementwise_bw_eff", Range::fraction(), Dim::kNone);
  p.step_overhead_ns = r.param("step_overhead_ns", Range::non_negative(), Dim::kNanoseconds);
  p.layer_overhead_ns = r.param("layer_overhead_ns", Range::non_negative(), Dim::kNanoseconds);
  p.copy_bw_eff = r.param("copy_bw_eff", Range::fraction(), Dim::kNone);
  if (r.has("host_op_ns")) p.host_op_ns = r.param("host_op_ns", Range::non_negative(), Dim::kNanoseconds);
  p.notes = r.str("notes", false);
  if (r.has("fit") && !r.raw("fit").is_map()) r.fail_at("fit", "expected a mapping", "a free-form mapping");
  return p;
}

EngineSpec parse_engine(const MapReader& r) {
  EngineSpec e;
  e.name = r.str("name", true);
  e.engine = r.str("engine", true);  // an engine kind; the engine registry checks it (sim/engine/engine_registry.hpp)
  e.version = r.str("version", true);
  e.description = r.str("description", true);
  return e;  // settings: parse_engine_settings (their keys are the file's own)
}


void parse_engine_settings(const yamlx::DocNode& settings, const std::string& file, EngineSpec& e) {
  if (!settings.is_map()) {
    yamlx::fail(file, settings.line(), "settings", "expected a mapping", "name: {value: X, source: \"...\"}");
  }
  std::set<std::string> seen;
  for (const auto& [key, value] : settings.entries()) {
    const std::string name = key.text();
    const std::string path = "settings." + name;
    if (!seen.insert(name).second) yamlx::fail(file, key.line(), path, "duplicate setting", "each setting once");
    if (value.is_scalar()) {
      yamlx::fail(file, value.line(), path, "setting without source",
                  "{value: <number|string|bool>, source: \"...\"}");
    }
    const MapReader m(value, file, path, {"value", "source", "note"}, key.line());
    if (!m.has("value")) m.fail_at("value", "missing required key", "a number, string or boolean");
    const std::string source = m.str("source", true);
    if (source.find_first_not_of(" \t") == std::string::npos) m.fail_at("source", "empty source", "a citation");
    const yamlx::DocNode& v = m.raw("value");
    if (!v.is_scalar()) m.fail_at("value", "expected a scalar", "a number, string or boolean");
    const nlohmann::json j = yamlx::to_json(v);
    if (j.is_number()) {
      e.settings[name] = j.get<double>();
    } else if (j.is_boolean()) {
      e.text_settings[name] = j.get<bool>() ? "true" : "false";
    } else if (j.is_string()) {
      e.text_settings[name] = j.get<std::string>();
    } else {
      m.fail_at("value", "null value", "a number, string or boolean");
    }
  }
}

WorkloadSpec parse_workload(const MapReader& r, const std::filesystem::path& config_dir) {
  WorkloadSpec w;
  w.name = r.str("name", true);
  w.kind = r.enumeration("type", {"dataset", "synthetic", "shared_prefix", "trace"}, true);
  w.description = r.str("description", true);
  auto need = [&](const std::string& key, bool wanted) {
    if (r.has(key) && !wanted) r.fail_at(key, fmt::format("not used by type {}", w.kind), "keys of that type (docs/configs.md)");
  };
  const bool file_based = w.kind == "dataset" || w.kind == "trace";
  need("dataset_file", file_based);
  need("dataset_format", file_based);
  need("token_counts_file", file_based);
  need("tokenizer", file_based);
  need("input", w.kind == "synthetic");
  need("output", w.kind == "synthetic");
  for (const char* k : {"system_prompt_tokens", "question_tokens", "output_tokens", "num_groups", "users_per_group",
                        "prompts_in_rotation"}) {
    need(k, w.kind == "shared_prefix");
  }
  if (file_based) {
    w.dataset_file = r.str("dataset_file", true);
    w.dataset_format = r.enumeration("dataset_format", {"llm-load-test-v1", "llm-load-test-v2"}, true);
    w.token_counts_file = r.str("token_counts_file", false);
    w.tokenizer = r.str("tokenizer", false);
    for (const char* k : {"dataset_file", "token_counts_file"}) {
      const std::string rel = r.str(k, false);
      if (rel.empty()) continue;
      const PathCheck c = check_path(config_dir / rel);
      if (!c.exists) {
        r.fail_at(k, fmt::format("file '{}' not found under {}{}", rel, config_dir.string(), c.reason_suffix()),
                  "a path relative to the config directory");
      }
    }
  }
  if (w.kind == "synthetic") {
    for (auto [key, dist] : {std::pair<const char*, LengthDist*>{"input", &w.input}, {"output", &w.output}}) {
      const MapReader d = r.child(key, {"dist", "mean", "stddev", "min", "max"});
      dist->kind = d.enumeration("dist", {"fixed", "normal", "uniform", "lognormal"}, true);
      dist->mean = d.sourced("mean", Range::non_negative(), Dim::kNone, dist->kind != "uniform", 0);
      dist->stddev = d.sourced("stddev", Range::non_negative(), Dim::kNone,
                               dist->kind == "normal" || dist->kind == "lognormal", 0);
      dist->min = d.sourced("min", Range::between(1, 1e9), Dim::kNone, dist->kind == "uniform", 1);
      dist->max = d.sourced("max", Range::between(1, 1e9), Dim::kNone, dist->kind == "uniform", 1e9);
      if (dist->max < dist->min) d.fail_at("max", "smaller than min", fmt::format(">= {}", dist->min));
    }
  }
  if (w.kind == "shared_prefix") {
    w.system_prompt_tokens = r.sourced_int("system_prompt_tokens", Range::non_negative(), true);
    w.question_tokens = r.sourced_int("question_tokens", Range::between(1, 1e7), true);
    w.output_tokens = r.sourced_int("output_tokens", Range::between(1, 1e7), true);
    w.num_groups = r.sourced_int("num_groups", Range::between(1, 1e6), false, 0);
    w.users_per_group = r.sourced_int("users_per_group", Range::between(1, 1e6), false, 0);
    w.prompts_in_rotation = r.sourced_int("prompts_in_rotation", Range::between(1, 1e6), false, 0);
  }
  for (const auto& s : r.child_list("stages", {"rate_rps", "duration_s"}, false)) {
    WorkloadSpec::Stage st;
    st.rate_rps = s.sourced("rate_rps", Range::positive(), Dim::kNone, true);
    st.duration_s = s.sourced("duration_s", Range::positive(), Dim::kNone, true);
    w.stages.push_back(st);
  }
  if (r.has("extra")) {
    const yamlx::DocNode& extra = r.raw("extra");
    if (!extra.is_map()) r.fail_at("extra", "expected a mapping", "name: {value: X, source: \"...\"}");
    std::vector<std::string> keys;
    for (const auto& [k, v] : extra.entries()) keys.push_back(k.text());
    const MapReader ex(extra, r.file(), "extra", keys, r.line_of("extra"));
    for (const auto& k : keys) w.extra[k] = ex.sourced(k, Range::non_negative(), Dim::kNone, true);
  }
  return w;
}


}  // namespace servetwin::catalog_detail
