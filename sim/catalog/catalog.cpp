// Strict loader of the configs/ catalog. Each kind has one parse function that names every key it
// accepts (MapReader rejects the rest), reads typed values with their allowed ranges, and records
// the whole YAML entry as JSON for `servetwin show`. Cross-references (instance -> gpu,
// interconnect; profile -> gpu) are checked after the referenced kinds are loaded.
#include "sim/catalog/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <set>

#include "sim/catalog/parse_cache.hpp"
#include "sim/catalog/strict_yaml.hpp"

namespace servetwin {
namespace {

using yamlx::Dim;
using yamlx::MapReader;
using yamlx::Range;

struct KindInfo {
  const char* dir;        // directory under configs/ and the kind name used by the API
  const char* file_kind;  // value of `kind:` inside each file
};

// Load order matters: instances refer to gpus and interconnects, profiles to gpus.
const std::vector<KindInfo>& kind_table() {
  static const std::vector<KindInfo> table{
      {"gpus", "gpu"},         {"interconnects", "interconnect"}, {"instances", "instance"},
      {"models", "model"},     {"profiles", "hardware_profile"},  {"engines", "engine"},
      {"workloads", "workload"}};
  return table;
}

// Display order for `servetwin list` help and errors.
const std::vector<std::string> kKinds{"gpus",     "models",   "instances", "interconnects",
                                      "profiles", "engines", "workloads"};

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
  g.sm_count = r.sourced_int("sm_count", Range::between(1, 10000), true);
  g.l2_bytes = r.sourced("l2_bytes", Range::positive(), Dim::kBytes, true);
  g.tdp_watts = r.sourced("tdp_watts", Range::positive(), Dim::kNone, true);
  g.gpu_link = r.enumeration("gpu_link", {"none", "nvlink3", "nvlink4", "nvlink5", "nvlink-bridge", "infinity-fabric"}, true);
  g.gpu_link_bw_bytes_s = r.sourced("gpu_link_bw_bytes_s", Range::non_negative(), Dim::kBytesPerSecond, true);
  g.pcie_gen = r.sourced_int("pcie_gen", Range::between(3, 6), true);
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

// Lookup key of a name or alias: case-insensitive, and a run of spaces reads as one '-', so the names
// people copy from nvidia-smi or a spreadsheet ("NVIDIA H100 80GB HBM3", "H100 SXM") find their entry.
std::string normalized(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  bool pending_dash = false;
  for (const char ch : yamlx::lower(s)) {
    if (ch == ' ' || ch == '\t') {
      pending_dash = !out.empty();
      continue;
    }
    if (pending_dash) out.push_back('-');
    pending_dash = false;
    out.push_back(ch);
  }
  return out;
}

}  // namespace

const std::vector<std::string>& Catalog::kinds() { return kKinds; }

std::string Catalog::normalize_kind(const std::string& kind) {
  const std::string k = normalized(kind);
  for (const auto& info : kind_table()) {
    if (k == info.dir || k == info.file_kind || k + "s" == info.dir) return info.dir;
  }
  if (k == "profile") return "profiles";
  return "";
}

Catalog Catalog::load() { return load(default_config_dir()); }

namespace {

// Engine settings need their own reader because the allowed keys are the file's own keys.
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
  for (const char* k : {"system_prompt_tokens", "question_tokens", "output_tokens", "num_groups", "users_per_group"}) {
    need(k, w.kind == "shared_prefix");
  }
  if (file_based) {
    w.dataset_file = r.str("dataset_file", true);
    w.dataset_format = r.enumeration("dataset_format", {"llm-load-test-v1", "llm-load-test-v2"}, true);
    w.token_counts_file = r.str("token_counts_file", false);
    w.tokenizer = r.str("tokenizer", false);
    for (const char* k : {"dataset_file", "token_counts_file"}) {
      const std::string rel = r.str(k, false);
      if (!rel.empty() && !std::filesystem::exists(config_dir / rel)) {
        r.fail_at(k, fmt::format("file '{}' not found under {}", rel, config_dir.string()),
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

// YAML documents parsed ahead of interpretation; a file that failed to parse keeps its exception,
// rethrown when its turn comes so errors surface in the same order as a sequential load.
class ParsedFiles {
 public:
  using Doc = std::shared_ptr<const yamlx::DocNode>;
  explicit ParsedFiles(std::size_t n) : nodes_(n), errors_(n) {}
  explicit ParsedFiles(std::vector<yamlx::DocNode> nodes) : errors_(nodes.size()) {
    nodes_.reserve(nodes.size());
    for (auto& n : nodes) nodes_.push_back(std::make_shared<const yamlx::DocNode>(std::move(n)));
  }
  void parse(std::size_t i, const std::filesystem::path& path) {
    try {
      nodes_[i] = std::make_shared<const yamlx::DocNode>(yamlx::load_file(path));
    } catch (...) {
      errors_[i] = std::current_exception();
    }
  }
  [[nodiscard]] const Doc& take(std::size_t i) const {
    if (errors_[i]) std::rethrow_exception(errors_[i]);
    return nodes_[i];
  }
  [[nodiscard]] std::vector<yamlx::DocNode> copies() const {
    std::vector<yamlx::DocNode> out;
    out.reserve(nodes_.size());
    for (const auto& n : nodes_) out.push_back(*n);
    return out;
  }

 private:
  std::vector<Doc> nodes_;
  std::vector<std::exception_ptr> errors_;
};

std::filesystem::path& parse_cache_dir() {
  static std::filesystem::path dir;  // empty: no cache (library users and tests stay hermetic)
  return dir;
}

ParsedFiles parse_all(const std::vector<std::filesystem::path>& all) {
  ParsedFiles parsed(all.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < all.size(); i = next++) parsed.parse(i, all[i]);
  };
  const unsigned threads = std::min<unsigned>(4, std::max(1U, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return parsed;
}

}  // namespace

Catalog Catalog::load(const std::filesystem::path& config_dir) {
  namespace fs = std::filesystem;
  Catalog c;
  c.dir_ = config_dir;
  if (!fs::is_directory(config_dir)) {
    throw ConfigError(fmt::format("{}:1: key '(directory)': config directory not found; allowed: a directory "
                                  "with models/ gpus/ instances/ interconnects/ profiles/ engines/ workloads/",
                                  config_dir.string()));
  }
  // Parse every file first, in parallel (YAML parsing is most of a catalog load, and every CLI call
  // loads the catalog), then interpret them in a fixed order so the first error and the iteration
  // order never depend on threads or the file system.
  std::vector<std::vector<fs::path>> files_per_kind;
  for (const auto& info : kind_table()) {
    std::vector<fs::path> files;
    const fs::path sub = config_dir / info.dir;
    if (fs::is_directory(sub)) {  // an absent kind directory is an empty catalog of that kind
      for (const auto& entry : fs::directory_iterator(sub)) {
        if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    files_per_kind.push_back(std::move(files));
  }
  std::vector<fs::path> all_paths;
  for (const auto& files : files_per_kind) all_paths.insert(all_paths.end(), files.begin(), files.end());
  const ParseCache cache(parse_cache_dir(), config_dir, all_paths);
  auto cached = cache.read();
  const bool from_cache = cached.has_value();
  const ParsedFiles parsed = from_cache ? ParsedFiles(std::move(*cached)) : parse_all(all_paths);
  std::size_t next_parsed = 0;
  std::size_t kind_index = 0;
  for (const auto& info : kind_table()) {
    const std::string kind = info.dir;
    c.documents_[kind];
    c.index_[kind];
    for (const auto& path : files_per_kind[kind_index]) {
      const std::string file = path.string();
      const ParsedFiles::Doc doc = parsed.take(next_parsed++);
      const yamlx::DocNode& root = *doc;
      if (!root.is_map()) {
        yamlx::fail(file, root.line(), "(document)", "expected a mapping with kind: and name:",
                    fmt::format("kind: {}", info.file_kind));
      }
      // Check `kind:` before the per-kind key list so a file in the wrong directory says so.
      const yamlx::DocNode& kind_node = root.at("kind");
      if (!kind_node.is_defined() || !kind_node.is_scalar()) {
        yamlx::fail(file, root.line(), "kind", "missing required key", info.file_kind);
      }
      if (kind_node.text() != info.file_kind) {
        yamlx::fail(file, kind_node.line(), "kind",
                    fmt::format("bad kind '{}' for a file in {}/", kind_node.text(), kind), info.file_kind);
      }

      std::string name;
      std::vector<std::string> aliases;
      if (kind == "models") {
        const MapReader r(root, file, "",
                          with_common({"aliases", "family", "tokenizer", "num_layers", "hidden_size",
                                       "intermediate_size", "num_attention_heads", "num_kv_heads", "head_dim",
                                       "vocab_size", "max_position_embeddings", "tie_word_embeddings", "gated_mlp",
                                       "num_experts", "experts_per_token", "shared_experts", "moe_layer_step",
                                       "dense_intermediate_size", "sliding_window"}),
                          root.line());
        ModelSpec m = parse_model(r);
        name = m.name;
        aliases = m.aliases;
        c.models[name] = std::move(m);
      } else if (kind == "gpus") {
        const MapReader r(root, file, "",
                          with_common({"aliases", "vendor", "architecture", "memory_bytes", "usable_memory_bytes",
                                       "mem_bw_bytes_s", "peak_fp16_flops", "peak_fp8_flops", "sm_count", "l2_bytes",
                                       "tdp_watts", "gpu_link", "gpu_link_bw_bytes_s", "pcie_gen"}),
                          root.line());
        GpuSpec g = parse_gpu(r);
        name = g.name;
        aliases = g.aliases;
        c.gpus[name] = std::move(g);
      } else if (kind == "interconnects") {
        const MapReader r(root, file, "", with_common({"topology", "description", "allreduce"}), root.line());
        InterconnectSpec ic = parse_interconnect(r);
        name = ic.name;
        c.interconnects[name] = std::move(ic);
      } else if (kind == "instances") {
        const MapReader r(root, file, "",
                          with_common({"aliases", "provider", "gpu", "gpu_count", "interconnect", "vcpus",
                                       "host_memory_bytes", "on_demand"}),
                          root.line());
        InstanceSpec in = parse_instance(r);
        if (!c.has_gpu(in.gpu)) {
          r.fail_at("gpu", fmt::format("unknown gpu '{}'", in.gpu), join_names(c.names("gpus")));
        }
        in.gpu = c.resolve("gpus", in.gpu);
        if (!c.has_interconnect(in.interconnect)) {
          r.fail_at("interconnect", fmt::format("unknown interconnect '{}'", in.interconnect),
                    join_names(c.names("interconnects")));
        }
        in.interconnect = c.resolve("interconnects", in.interconnect);
        const InterconnectSpec& ic = c.interconnects.at(in.interconnect);
        if (in.gpu_count > 1 && ic.kind == "none") {
          r.fail_at("interconnect", fmt::format("'{}' is single-GPU but gpu_count is {}", ic.name, in.gpu_count),
                    "a multi-GPU interconnect");
        }
        name = in.name;
        aliases = r.string_list("aliases");
        c.instances[name] = std::move(in);
      } else if (kind == "profiles") {
        const MapReader r(root, file, "",
                          with_common({"gpu", "gemm_eff_max", "gemm_m_half_tokens", "gemm_bw_eff",
                                       "attn_prefill_flops_eff", "attn_decode_bw_eff", "elementwise_bw_eff",
                                       "step_overhead_ns", "layer_overhead_ns", "copy_bw_eff", "fit"}),
                          root.line());
        HardwareProfile p = parse_profile(r);
        if (!c.has_gpu(p.gpu)) r.fail_at("gpu", fmt::format("unknown gpu '{}'", p.gpu), join_names(c.names("gpus")));
        p.gpu = c.resolve("gpus", p.gpu);
        // Profiles are keyed by GPU; the profile's own name is accepted as an alias.
        name = p.gpu;
        if (normalized(p.name) != normalized(p.gpu)) aliases.push_back(p.name);
        if (c.profiles.count(name) != 0) {
          r.fail_at("gpu", fmt::format("second profile for gpu '{}' (first in {})", name, c.files_[kind][name]),
                    "one profile per gpu");
        }
        c.profiles[name] = std::move(p);
      } else if (kind == "engines") {
        const MapReader r(root, file, "", with_common({"aliases", "engine", "version", "description", "settings"}), root.line());
        EngineSpec e = parse_engine(r);
        aliases = r.string_list("aliases");
        if (r.has("settings") && !r.raw("settings").is_null()) parse_engine_settings(r.raw("settings"), file, e);
        name = e.name;
        c.engines[name] = std::move(e);
      } else {  // workloads
        const MapReader r(root, file, "",
                          with_common({"type", "description", "dataset_file", "dataset_format", "token_counts_file",
                                       "tokenizer", "input", "output", "system_prompt_tokens", "question_tokens",
                                       "output_tokens", "num_groups", "users_per_group", "stages", "extra"}),
                          root.line());
        WorkloadSpec w = parse_workload(r, config_dir);
        name = w.name;
        c.workloads[name] = std::move(w);
      }

      // Names and aliases are unique per kind, case-insensitively, across files.
      auto& index = c.index_[kind];
      std::vector<std::string> keys{name};
      keys.insert(keys.end(), aliases.begin(), aliases.end());
      std::set<std::string> own;
      for (const auto& k : keys) {
        const std::string lk = normalized(k);
        if (!own.insert(lk).second) continue;  // an alias repeating the name in the same file is harmless
        auto it = index.find(lk);
        if (it != index.end()) {
          const std::string other = c.files_[kind].count(it->second) != 0 ? c.files_[kind][it->second] : "?";
          const bool is_alias = k != name;
          const yamlx::DocNode& where = root.at(is_alias ? "aliases" : "name");
          yamlx::fail(file, where.is_defined() ? where.line() : root.line(), is_alias ? "aliases" : "name",
                      fmt::format("duplicate {} '{}' (already used by '{}' in {})", kind, k, it->second, other),
                      "names and aliases unique per kind (case-insensitive)");
        }
        index[lk] = name;
      }
      c.files_[kind][name] = file;
      c.documents_[kind][name] = doc;  // converted to JSON only when shown
    }
    ++kind_index;
  }
  if (!from_cache) cache.write(parsed.copies());  // reached only when every file loaded cleanly
  return c;
}

void Catalog::use_parse_cache(const std::filesystem::path& cache_dir) { parse_cache_dir() = cache_dir; }

std::string Catalog::join_names(const std::vector<std::string>& names) {
  return names.empty() ? std::string("(none in catalog)") : yamlx::join(names);
}

std::string Catalog::resolve(const std::string& kind, const std::string& name_or_alias) const {
  const std::string k = normalize_kind(kind);
  if (k.empty()) {
    throw ConfigError(fmt::format("unknown catalog kind '{}'; allowed: {}", kind, yamlx::join(kKinds)));
  }
  const auto idx = index_.find(k);
  if (idx != index_.end()) {
    const auto it = idx->second.find(normalized(name_or_alias));
    if (it != idx->second.end()) return it->second;
  }
  throw ConfigError(fmt::format("{}: key '{}': unknown name '{}'; allowed: {}", dir_.string(), k, name_or_alias,
                                join_names(names(k))));
}

namespace {
bool in_index(const std::map<std::string, std::map<std::string, std::string>>& index, const char* kind,
              const std::string& n) {
  const auto it = index.find(kind);
  return it != index.end() && it->second.count(normalized(n)) != 0;
}
}  // namespace

namespace {
template <typename Map>
const typename Map::mapped_type& lookup(const Catalog& c, const Map& map, const char* kind, const std::string& name) {
  return map.at(c.resolve(kind, name));
}
}  // namespace

const ModelSpec& Catalog::model(const std::string& n) const { return lookup(*this, models, "models", n); }
const GpuSpec& Catalog::gpu(const std::string& n) const { return lookup(*this, gpus, "gpus", n); }
const InstanceSpec& Catalog::instance(const std::string& n) const { return lookup(*this, instances, "instances", n); }
const InterconnectSpec& Catalog::interconnect(const std::string& n) const {
  return lookup(*this, interconnects, "interconnects", n);
}
const HardwareProfile& Catalog::profile(const std::string& gpu_name) const {
  // A GPU alias ("H100-80GB-SXM") finds the profile of its canonical GPU.
  if (!in_index(index_, "profiles", gpu_name) && has_gpu(gpu_name)) {
    return lookup(*this, profiles, "profiles", resolve("gpus", gpu_name));
  }
  return lookup(*this, profiles, "profiles", gpu_name);
}
const EngineSpec& Catalog::engine(const std::string& n) const { return lookup(*this, engines, "engines", n); }
const WorkloadSpec& Catalog::workload(const std::string& n) const { return lookup(*this, workloads, "workloads", n); }

bool Catalog::has_model(const std::string& n) const { return in_index(index_, "models", n); }
bool Catalog::has_gpu(const std::string& n) const { return in_index(index_, "gpus", n); }
bool Catalog::has_instance(const std::string& n) const { return in_index(index_, "instances", n); }
bool Catalog::has_profile(const std::string& gpu_name) const {
  if (in_index(index_, "profiles", gpu_name)) return true;
  return has_gpu(gpu_name) && in_index(index_, "profiles", resolve("gpus", gpu_name));
}
bool Catalog::has_interconnect(const std::string& n) const { return in_index(index_, "interconnects", n); }
bool Catalog::has_engine(const std::string& n) const { return in_index(index_, "engines", n); }
bool Catalog::has_workload(const std::string& n) const { return in_index(index_, "workloads", n); }

std::vector<std::string> Catalog::names(const std::string& kind) const {
  const std::string k = normalize_kind(kind);
  if (k.empty()) throw ConfigError(fmt::format("unknown catalog kind '{}'; allowed: {}", kind, yamlx::join(kKinds)));
  std::vector<std::string> out;
  const auto it = documents_.find(k);
  if (it != documents_.end()) {
    for (const auto& [name, doc] : it->second) out.push_back(name);  // std::map: sorted
  }
  return out;
}

nlohmann::json Catalog::document(const std::string& kind, const std::string& name) const {
  const std::string k = normalize_kind(kind);
  const std::string canonical =
      (k == "profiles" && !in_index(index_, "profiles", name) && has_gpu(name)) ? resolve("gpus", name) : resolve(k, name);
  return yamlx::to_json(*documents_.at(k).at(canonical));
}

}  // namespace servetwin
