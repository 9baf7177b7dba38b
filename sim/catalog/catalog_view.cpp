#include "sim/catalog/catalog_view.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sim/catalog/model_params.hpp"

namespace servetwin {
namespace {

std::string num(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

std::string price(const PriceSpec& p) { return p.has_price ? fmt::format("{}", p.usd_per_hour) : "n/a"; }

std::string shape(const WorkloadSpec& w) {
  if (w.kind == "shared_prefix") {
    return fmt::format("{}+{} in, {} out", w.system_prompt_tokens, w.question_tokens, w.output_tokens);
  }
  if (w.kind == "synthetic") {
    return fmt::format("{} {} in, {} {} out", w.input.kind, w.input.mean, w.output.kind, w.output.mean);
  }
  return w.dataset_file;
}

std::string allreduce_summary(const InterconnectSpec& ic) {
  if (ic.allreduce.empty()) return "-";
  std::vector<std::string> parts;
  for (const auto& p : ic.allreduce) {
    parts.push_back(fmt::format("tp{}: {} us, {} GB/s", p.tp, num(p.latency_ns / 1e3, 1), num(p.bus_bw_bytes_s / 1e9, 1)));
  }
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "; " : "") + parts[i];
  return out;
}

std::string provenances(const HardwareProfile& p) {
  std::vector<std::string> seen;
  for (const Param* q : {&p.gemm_eff_max, &p.gemm_m_half_tokens, &p.gemm_bw_eff, &p.attn_prefill_flops_eff,
                         &p.attn_decode_bw_eff, &p.elementwise_bw_eff, &p.step_overhead_ns, &p.layer_overhead_ns,
                         &p.copy_bw_eff}) {
    if (std::find(seen.begin(), seen.end(), q->provenance) == seen.end()) seen.push_back(q->provenance);
  }
  std::sort(seen.begin(), seen.end());
  std::string out;
  for (std::size_t i = 0; i < seen.size(); ++i) out += (i ? "," : "") + seen[i];
  return out;
}

nlohmann::json param_json(const Param& p) {
  return {{"value", p.value}, {"provenance", p.provenance}, {"source", p.source}};
}

nlohmann::json dist_json(const LengthDist& d) {
  return {{"kind", d.kind}, {"mean", d.mean}, {"stddev", d.stddev}, {"min", d.min}, {"max", d.max}};
}

// Printing of one document value: sourced numbers on one line with their citation.
void render_value(std::string& out, const std::string& key, const nlohmann::json& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
  if (v.is_object() && v.contains("value") && (v.contains("source") || v.contains("provenance"))) {
    std::string line = fmt::format("{}{}: {}", pad, key, v["value"].dump());
    if (v.contains("unit")) line += " " + v["unit"].get<std::string>();
    if (v.contains("provenance")) line += fmt::format(" ({})", v["provenance"].get<std::string>());
    if (v.contains("source")) line += "  [source: " + v["source"].get<std::string>() + "]";
    if (v.contains("note")) line += "  [note: " + v["note"].get<std::string>() + "]";
    out += line + "\n";
    return;
  }
  if (v.is_object()) {
    out += fmt::format("{}{}:\n", pad, key);
    for (const auto& [k, child] : v.items()) render_value(out, k, child, indent + 1);
    return;
  }
  if (v.is_array()) {
    const bool scalars = std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) { return !e.is_structured(); });
    if (scalars) {
      std::string items;
      for (const auto& e : v) items += (items.empty() ? "" : ", ") + (e.is_string() ? e.get<std::string>() : e.dump());
      out += fmt::format("{}{}: [{}]\n", pad, key, items);
      return;
    }
    out += fmt::format("{}{}:\n", pad, key);
    std::size_t i = 0;
    for (const auto& e : v) render_value(out, fmt::format("[{}]", i++), e, indent + 1);
    return;
  }
  std::string text = v.is_string() ? v.get<std::string>() : v.dump();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();  // block scalars
  out += fmt::format("{}{}: {}\n", pad, key, text);
}

}  // namespace

CatalogTable catalog_table(const Catalog& c, const std::string& kind_in) {
  const std::string kind = Catalog::normalize_kind(kind_in);
  CatalogTable t;
  if (kind == "gpus") {
    t.header = {"NAME", "VENDOR", "ARCH", "MEM_GIB", "MEM_BW_GB/S", "FP16_TFLOPS", "FP8_TFLOPS", "SMS", "LINK", "ALIASES"};
    for (const auto& [n, g] : c.gpus) {
      std::string aliases;
      for (const auto& a : g.aliases) aliases += (aliases.empty() ? "" : ",") + a;
      t.rows.push_back({n, g.vendor, g.architecture, num(g.memory_bytes / 1073741824.0, 0), num(g.mem_bw_bytes_s / 1e9, 0),
                        num(g.peak_fp16_flops / 1e12, 0), g.peak_fp8_flops > 0 ? num(g.peak_fp8_flops / 1e12, 0) : "-",
                        std::to_string(g.sm_count), g.gpu_link, aliases});
    }
  } else if (kind == "models") {
    t.header = {"NAME", "LAYERS", "HIDDEN", "HEADS/KV", "FFN", "EXPERTS", "PARAMS_B", "CONTEXT", "SHORT_NAME"};
    for (const auto& [n, m] : c.models) {
      t.rows.push_back({n, std::to_string(m.num_layers), std::to_string(m.hidden_size),
                        fmt::format("{}/{}", m.num_attention_heads, m.num_kv_heads), std::to_string(m.intermediate_size),
                        m.num_experts > 0 ? fmt::format("{} (top-{})", m.num_experts, m.experts_per_token) : "-",
                        num(parameter_count(m) / 1e9, 2), std::to_string(m.max_position_embeddings),
                        m.aliases.empty() ? "-" : m.aliases.front()});
    }
  } else if (kind == "instances") {
    t.header = {"NAME", "GPUS", "INTERCONNECT", "VCPUS", "RAM_GIB", "USD/H", "PRICE_DATE"};
    // Family, then size (vCPUs): g5.xlarge, g5.2xlarge, ..., g5.48xlarge instead of string order.
    std::vector<const InstanceSpec*> sorted;
    for (const auto& [n, i] : c.instances) sorted.push_back(&i);
    std::stable_sort(sorted.begin(), sorted.end(), [](const InstanceSpec* a, const InstanceSpec* b) {
      const std::string fa = a->name.substr(0, a->name.find('.'));
      const std::string fb = b->name.substr(0, b->name.find('.'));
      return fa != fb ? fa < fb : a->vcpus < b->vcpus;
    });
    for (const InstanceSpec* ip : sorted) {
      const InstanceSpec& i = *ip;
      const std::string& n = i.name;
      t.rows.push_back({n, fmt::format("{}x {}", i.gpu_count, i.gpu), i.interconnect, std::to_string(i.vcpus),
                        num(i.host_memory_bytes / 1073741824.0, 0), price(i.on_demand), i.on_demand.date});
    }
  } else if (kind == "interconnects") {
    t.header = {"NAME", "TOPOLOGY", "ALLREDUCE (latency, busbw)"};
    for (const auto& [n, ic] : c.interconnects) t.rows.push_back({n, ic.kind, allreduce_summary(ic)});
  } else if (kind == "profiles") {
    t.header = {"GPU", "NAME", "GEMM_EFF", "GEMM_BW_EFF", "DECODE_BW_EFF", "STEP_US", "LAYER_US", "PROVENANCE"};
    for (const auto& [n, p] : c.profiles) {
      t.rows.push_back({n, p.name, num(p.gemm_eff_max.value, 3), num(p.gemm_bw_eff.value, 3),
                        num(p.attn_decode_bw_eff.value, 3), num(p.step_overhead_ns.value / 1e3, 1),
                        num(p.layer_overhead_ns.value / 1e3, 1), provenances(p)});
    }
  } else if (kind == "engines") {
    t.header = {"NAME", "ENGINE", "VERSION", "SETTINGS", "DESCRIPTION"};
    for (const auto& [n, e] : c.engines) {
      t.rows.push_back({n, e.engine, e.version, std::to_string(e.settings.size() + e.text_settings.size()),
                        e.description});
    }
  } else if (kind == "workloads") {
    t.header = {"NAME", "TYPE", "SHAPE", "DESCRIPTION"};
    for (const auto& [n, w] : c.workloads) t.rows.push_back({n, w.kind, shape(w), w.description});
  } else {
    throw ConfigError(fmt::format("unknown catalog kind '{}'", kind_in));
  }
  return t;
}

// One-line cell: block-scalar descriptions carry newlines that would break the table.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) out += (c == '\n' || c == '\t') ? ' ' : c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::string render_table(const CatalogTable& table, bool bold_header) {
  CatalogTable t = table;
  for (auto& r : t.rows) {
    for (auto& cell : r) cell = one_line(cell);
  }
  std::vector<std::size_t> width(t.header.size(), 0);
  for (std::size_t i = 0; i < t.header.size(); ++i) width[i] = t.header[i].size();
  for (const auto& r : t.rows) {
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      // The last column is not padded, so lines carry no trailing blanks.
      s += i + 1 < cells.size() ? fmt::format("{:<{}}  ", cells[i], width[i]) : cells[i];
    }
    return s + "\n";
  };
  std::string out = line(t.header);
  if (bold_header) out = "\033[1m" + out.substr(0, out.size() - 1) + "\033[0m\n";
  for (const auto& r : t.rows) out += line(r);
  return out;
}

nlohmann::json entry_json(const Catalog& c, const std::string& kind_in, const std::string& name) {
  const std::string kind = Catalog::normalize_kind(kind_in);
  nlohmann::json j;
  if (kind == "gpus") {
    const GpuSpec& g = c.gpu(name);
    j = {{"name", g.name}, {"aliases", g.aliases}, {"vendor", g.vendor}, {"architecture", g.architecture},
         {"memory_bytes", g.memory_bytes}, {"usable_memory_bytes", g.usable_memory_bytes},
         {"mem_bw_bytes_s", g.mem_bw_bytes_s}, {"peak_fp16_flops", g.peak_fp16_flops},
         {"peak_fp8_flops", g.peak_fp8_flops}, {"peak_fp4_flops", g.peak_fp4_flops}, {"sm_count", g.sm_count},
         {"l2_bytes", g.l2_bytes},
         {"tdp_watts", g.tdp_watts}, {"gpu_link", g.gpu_link}, {"gpu_link_bw_bytes_s", g.gpu_link_bw_bytes_s},
         {"pcie_gen", g.pcie_gen}};
  } else if (kind == "models") {
    const ModelSpec& m = c.model(name);
    j = {{"name", m.name}, {"aliases", m.aliases}, {"family", m.family}, {"tokenizer", m.tokenizer},
         {"num_layers", m.num_layers}, {"hidden_size", m.hidden_size}, {"intermediate_size", m.intermediate_size},
         {"num_attention_heads", m.num_attention_heads}, {"num_kv_heads", m.num_kv_heads}, {"head_dim", m.head_dim},
         {"vocab_size", m.vocab_size}, {"max_position_embeddings", m.max_position_embeddings},
         {"tie_word_embeddings", m.tie_word_embeddings}, {"gated_mlp", m.gated_mlp}, {"num_experts", m.num_experts},
         {"experts_per_token", m.experts_per_token}, {"shared_experts", m.shared_experts},
         {"moe_layer_step", m.moe_layer_step}, {"dense_intermediate_size", m.dense_intermediate_size},
         {"sliding_window", m.sliding_window},
         {"parameters", parameter_count(m)}, {"active_parameters", active_parameter_count(m)},
         {"kv_bytes_per_token_fp16", kv_bytes_per_token(m)}};
  } else if (kind == "instances") {
    const InstanceSpec& i = c.instance(name);
    j = {{"name", i.name}, {"provider", i.provider}, {"gpu", i.gpu}, {"gpu_count", i.gpu_count},
         {"interconnect", i.interconnect}, {"vcpus", i.vcpus}, {"host_memory_bytes", i.host_memory_bytes},
         {"on_demand", {{"available", i.on_demand.has_price},
                        {"usd_per_hour", i.on_demand.has_price ? nlohmann::json(i.on_demand.usd_per_hour) : nlohmann::json()},
                        {"date", i.on_demand.date}, {"region", i.on_demand.region}}}};
  } else if (kind == "interconnects") {
    const InterconnectSpec& ic = c.interconnect(name);
    nlohmann::json pts = nlohmann::json::array();
    for (const auto& p : ic.allreduce) {
      pts.push_back({{"tp", p.tp}, {"latency_ns", p.latency_ns}, {"custom_latency_ns", p.custom_latency_ns},
                     {"bus_bw_bytes_s", p.bus_bw_bytes_s}});
    }
    j = {{"name", ic.name}, {"topology", ic.kind}, {"description", ic.description}, {"allreduce", pts}};
  } else if (kind == "profiles") {
    const HardwareProfile& p = c.profile(name);
    j = {{"name", p.name}, {"gpu", p.gpu}, {"gemm_eff_max", param_json(p.gemm_eff_max)},
         {"gemm_m_half_tokens", param_json(p.gemm_m_half_tokens)}, {"gemm_bw_eff", param_json(p.gemm_bw_eff)},
         {"attn_prefill_flops_eff", param_json(p.attn_prefill_flops_eff)},
         {"attn_decode_bw_eff", param_json(p.attn_decode_bw_eff)},
         {"elementwise_bw_eff", param_json(p.elementwise_bw_eff)},
         {"step_overhead_ns", param_json(p.step_overhead_ns)}, {"layer_overhead_ns", param_json(p.layer_overhead_ns)},
         {"copy_bw_eff", param_json(p.copy_bw_eff)}, {"host_op_ns", param_json(p.host_op_ns)}, {"notes", p.notes}};
  } else if (kind == "engines") {
    const EngineSpec& e = c.engine(name);
    j = {{"name", e.name}, {"engine", e.engine}, {"version", e.version}, {"description", e.description},
         {"settings", e.settings}, {"text_settings", e.text_settings}};
  } else if (kind == "workloads") {
    const WorkloadSpec& w = c.workload(name);
    nlohmann::json stages = nlohmann::json::array();
    for (const auto& s : w.stages) stages.push_back({{"rate_rps", s.rate_rps}, {"duration_s", s.duration_s}});
    j = {{"name", w.name}, {"type", w.kind}, {"description", w.description}, {"dataset_file", w.dataset_file},
         {"dataset_format", w.dataset_format}, {"token_counts_file", w.token_counts_file}, {"tokenizer", w.tokenizer},
         {"input", dist_json(w.input)}, {"output", dist_json(w.output)}, {"num_groups", w.num_groups},
         {"users_per_group", w.users_per_group}, {"prompts_in_rotation", w.prompts_in_rotation},
         {"system_prompt_tokens", w.system_prompt_tokens},
         {"question_tokens", w.question_tokens}, {"output_tokens", w.output_tokens}, {"stages", stages},
         {"extra", w.extra}};
  } else {
    throw ConfigError(fmt::format("unknown catalog kind '{}'", kind_in));
  }
  return j;
}

std::string render_document(const Catalog& c, const std::string& kind, const std::string& name) {
  const nlohmann::json& doc = c.document(kind, name);
  std::string out;
  // kind and name first, then the remaining fields (sorted: the document is an ordered JSON object).
  for (const char* k : {"kind", "name"}) {
    if (doc.contains(k)) render_value(out, k, doc[k], 0);
  }
  for (const auto& [k, v] : doc.items()) {
    if (k != "kind" && k != "name") render_value(out, k, v, 0);
  }
  if (Catalog::normalize_kind(kind) == "models") {
    const ModelSpec& m = c.model(name);
    out += fmt::format("parameters (derived): {:.2f} B total, {:.2f} B active; KV cache {:.0f} KiB/token at FP16\n",
                       parameter_count(m) / 1e9, active_parameter_count(m) / 1e9, kv_bytes_per_token(m) / 1024.0);
  }
  return out;
}

}  // namespace servetwin
