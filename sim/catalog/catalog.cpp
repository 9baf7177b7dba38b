// Strict loader of the configs/ catalog. Each kind has one parse function that names every key it
// accepts (MapReader rejects the rest), reads typed values with their allowed ranges, and records
// the whole YAML entry as JSON for `servetwin show`. Cross-references (instance -> gpu,
// interconnect; gpu -> server interconnect; profile -> gpu) are checked after the referenced kinds are loaded.
#include "sim/catalog/catalog.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "sim/catalog/parse_cache.hpp"
#include "sim/catalog/parsed_files.hpp"
#include "sim/catalog/spec_parsers.hpp"
#include "sim/catalog/strict_yaml.hpp"
#include "sim/core/path_check.hpp"

namespace servetwin {
namespace {

using catalog_detail::parse_all;
using catalog_detail::parse_cache_dir;
using catalog_detail::parse_engine;
using catalog_detail::parse_engine_settings;
using catalog_detail::parse_gpu;
using catalog_detail::parse_instance;
using catalog_detail::parse_interconnect;
using catalog_detail::parse_model;
using catalog_detail::parse_profile;
using catalog_detail::parse_workload;
using catalog_detail::ParsedFiles;
using catalog_detail::with_common;
using yamlx::MapReader;

struct KindInfo {
  const char* dir;        // directory under configs/ and the kind name used by the API
  const char* file_kind;  // value of `kind:` inside each file
};

// Load order matters: gpus refer to interconnects (server_interconnect), instances to gpus and
// interconnects, profiles to gpus.
const std::vector<KindInfo>& kind_table() {
  static const std::vector<KindInfo> table{{"interconnects", "interconnect"},
                                           {"gpus", "gpu"},
                                           {"instances", "instance"},
                                           {"models", "model"},
                                           {"profiles", "hardware_profile"},
                                           {"engines", "engine"},
                                           {"workloads", "workload"}};
  return table;
}

// Display order for `servetwin list` help and errors.
const std::vector<std::string> kKinds{"gpus",     "models",   "instances", "interconnects",
                                      "profiles", "engines", "workloads"};

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


std::string names_or_none(const std::vector<std::string>& names) {
  return names.empty() ? std::string("(none in catalog)") : yamlx::join(names);
}

// The .yaml files of each kind's directory, sorted, in kind_table() order; an absent kind directory is
// an empty catalog of that kind.
std::vector<std::vector<std::filesystem::path>> yaml_files_per_kind(const std::filesystem::path& config_dir) {
  namespace fs = std::filesystem;
  std::vector<std::vector<fs::path>> files_per_kind;
  for (const auto& info : kind_table()) {
    std::vector<fs::path> files;
    const fs::path sub = config_dir / info.dir;
    if (check_path(sub).directory) {
      for (const auto& entry : fs::directory_iterator(sub)) {
        if (entry.is_regular_file() && entry.path().extension() == ".yaml") files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    files_per_kind.push_back(std::move(files));
  }
  return files_per_kind;
}

// A catalog file is a mapping whose `kind:` matches its directory. `kind:` is checked before the
// per-kind key list so a file in the wrong directory says so.
void check_document_kind(const yamlx::DocNode& root, const std::string& file, const KindInfo& info) {
  if (!root.is_map()) {
    yamlx::fail(file, root.line(), "(document)", "expected a mapping with kind: and name:",
                fmt::format("kind: {}", info.file_kind));
  }
  const yamlx::DocNode& kind_node = root.at("kind");
  if (!kind_node.is_defined() || !kind_node.is_scalar()) {
    yamlx::fail(file, root.line(), "kind", "missing required key", info.file_kind);
  }
  if (kind_node.text() != info.file_kind) {
    yamlx::fail(file, kind_node.line(), "kind",
                fmt::format("bad kind '{}' for a file in {}/", kind_node.text(), info.dir), info.file_kind);
  }
}

// The canonical name and the aliases of one catalog entry.
struct EntryNames {
  std::string name;
  std::vector<std::string> aliases;
};

// One add_* per kind: reads the document with the keys that kind accepts, checks its cross-references
// against kinds loaded before it (kind_table() order), stores the spec and returns its name and aliases.

EntryNames add_model(Catalog& c, const yamlx::DocNode& root, const std::string& file) {
  const MapReader r(root, file, "",
                    with_common({"aliases", "family", "tokenizer", "num_layers", "hidden_size",
                                 "intermediate_size", "num_attention_heads", "num_kv_heads", "head_dim",
                                 "vocab_size", "max_position_embeddings", "tie_word_embeddings", "gated_mlp",
                                 "num_experts", "experts_per_token", "shared_experts", "moe_layer_step",
                                 "dense_intermediate_size", "sliding_window"}),
                    root.line());
  ModelSpec m = parse_model(r);
  EntryNames names{m.name, m.aliases};
  c.models[names.name] = std::move(m);
  return names;
}

EntryNames add_gpu(Catalog& c, const yamlx::DocNode& root, const std::string& file) {
  const MapReader r(root, file, "",
                    with_common({"aliases", "vendor", "architecture", "memory_bytes", "usable_memory_bytes",
                                 "mem_bw_bytes_s", "peak_fp16_flops", "peak_fp8_flops", "peak_fp4_flops", "sm_count",
                                 "l2_bytes", "tdp_watts", "gpu_link", "gpu_link_bw_bytes_s", "pcie_gen",
                                 "server_interconnect"}),
                    root.line());
  GpuSpec g = parse_gpu(r);
  if (!g.server_interconnect.empty()) {
    if (!c.has_interconnect(g.server_interconnect)) {
      r.fail_at("server_interconnect", fmt::format("unknown interconnect '{}'", g.server_interconnect),
                names_or_none(c.names("interconnects")));
    }
    g.server_interconnect = c.resolve("interconnects", g.server_interconnect);
    if (c.interconnects.at(g.server_interconnect).kind == "none") {
      r.fail_at("server_interconnect", fmt::format("'{}' is single-GPU", g.server_interconnect),
                "a multi-GPU interconnect");
    }
  }
  EntryNames names{g.name, g.aliases};
  c.gpus[names.name] = std::move(g);
  return names;
}

EntryNames add_interconnect(Catalog& c, const yamlx::DocNode& root, const std::string& file) {
  const MapReader r(root, file, "", with_common({"topology", "description", "allreduce"}), root.line());
  InterconnectSpec ic = parse_interconnect(r);
  EntryNames names{ic.name, {}};
  c.interconnects[names.name] = std::move(ic);
  return names;
}

EntryNames add_instance(Catalog& c, const yamlx::DocNode& root, const std::string& file) {
  const MapReader r(root, file, "",
                    with_common({"aliases", "provider", "gpu", "gpu_count", "interconnect", "vcpus",
                                 "host_memory_bytes", "on_demand"}),
                    root.line());
  InstanceSpec in = parse_instance(r);
  if (!c.has_gpu(in.gpu)) {
    r.fail_at("gpu", fmt::format("unknown gpu '{}'", in.gpu), names_or_none(c.names("gpus")));
  }
  in.gpu = c.resolve("gpus", in.gpu);
  if (!c.has_interconnect(in.interconnect)) {
    r.fail_at("interconnect", fmt::format("unknown interconnect '{}'", in.interconnect),
              names_or_none(c.names("interconnects")));
  }
  in.interconnect = c.resolve("interconnects", in.interconnect);
  const InterconnectSpec& ic = c.interconnects.at(in.interconnect);
  if (in.gpu_count > 1 && ic.kind == "none") {
    r.fail_at("interconnect", fmt::format("'{}' is single-GPU but gpu_count is {}", ic.name, in.gpu_count),
              "a multi-GPU interconnect");
  }
  EntryNames names{in.name, r.string_list("aliases")};
  c.instances[names.name] = std::move(in);
  return names;
}

// profile_files: GPU name -> file of the profiles loaded so far (for the one-profile-per-GPU error).
EntryNames add_profile(Catalog& c, const yamlx::DocNode& root, const std::string& file,
                       const std::map<std::string, std::string>& profile_files) {
  const MapReader r(root, file, "",
                    with_common({"gpu", "gemm_eff_max", "gemm_m_half_tokens", "gemm_bw_eff",
                                 "attn_prefill_flops_eff", "attn_decode_bw_eff", "elementwise_bw_eff",
                                 "step_overhead_ns", "layer_overhead_ns", "copy_bw_eff", "host_op_ns", "fit"}),
                    root.line());
  HardwareProfile p = parse_profile(r);
  if (!c.has_gpu(p.gpu)) r.fail_at("gpu", fmt::format("unknown gpu '{}'", p.gpu), names_or_none(c.names("gpus")));
  p.gpu = c.resolve("gpus", p.gpu);
  // Profiles are keyed by GPU; the profile's own name is accepted as an alias.
  EntryNames names{p.gpu, {}};
  if (normalized(p.name) != normalized(p.gpu)) names.aliases.push_back(p.name);
  if (c.profiles.count(names.name) != 0) {
    r.fail_at("gpu",
              fmt::format("second profile for gpu '{}' (first in {})", names.name, profile_files.at(names.name)),
              "one profile per gpu");
  }
  c.profiles[names.name] = std::move(p);
  return names;
}

EntryNames add_engine(Catalog& c, const yamlx::DocNode& root, const std::string& file) {
  const MapReader r(root, file, "", with_common({"aliases", "engine", "version", "description", "settings"}),
                    root.line());
  EngineSpec e = parse_engine(r);
  EntryNames names{"", r.string_list("aliases")};
  if (r.has("settings") && !r.raw("settings").is_null()) parse_engine_settings(r.raw("settings"), file, e);
  names.name = e.name;
  c.engines[names.name] = std::move(e);
  return names;
}

// Workload files name dataset files relative to the config directory.
EntryNames add_workload(Catalog& c, const yamlx::DocNode& root, const std::string& file,
                        const std::filesystem::path& config_dir) {
  const MapReader r(root, file, "",
                    with_common({"aliases", "type", "description", "dataset_file", "dataset_format", "token_counts_file",
                                 "tokenizer", "input", "output", "system_prompt_tokens", "question_tokens",
                                 "output_tokens", "num_groups", "users_per_group", "prompts_in_rotation", "stages",
                                 "extra"}),
                    root.line());
  WorkloadSpec w = parse_workload(r, config_dir);
  // The spellings published rows use (validate: sharegpt_v3, ...).
  EntryNames names{w.name, r.string_list("aliases")};
  c.workloads[names.name] = std::move(w);
  return names;
}

// Adds the entry of one document of `kind` to the catalog. files_of_kind: canonical name -> file of the
// entries of that kind loaded so far.
EntryNames add_entry(Catalog& c, const std::string& kind, const yamlx::DocNode& root, const std::string& file,
                     const std::map<std::string, std::string>& files_of_kind) {
  if (kind == "models") return add_model(c, root, file);
  if (kind == "gpus") return add_gpu(c, root, file);
  if (kind == "interconnects") return add_interconnect(c, root, file);
  if (kind == "instances") return add_instance(c, root, file);
  if (kind == "profiles") return add_profile(c, root, file, files_of_kind);
  if (kind == "engines") return add_engine(c, root, file);
  return add_workload(c, root, file, c.dir());
}

// Indexes an entry's name and aliases (normalized key -> canonical name). Names and aliases are unique
// per kind, case-insensitively, across files; files_of_kind names the earlier file in the error.
void index_names(std::map<std::string, std::string>& index, const std::map<std::string, std::string>& files_of_kind,
                 const std::string& kind, const EntryNames& entry, const yamlx::DocNode& root,
                 const std::string& file) {
  const std::string& name = entry.name;
  const std::vector<std::string>& aliases = entry.aliases;
  std::vector<std::string> keys{name};
  keys.insert(keys.end(), aliases.begin(), aliases.end());
  std::set<std::string> own;
  for (const auto& k : keys) {
    const std::string lk = normalized(k);
    if (!own.insert(lk).second) continue;  // an alias repeating the name in the same file is harmless
    auto it = index.find(lk);
    if (it != index.end()) {
      const auto earlier = files_of_kind.find(it->second);
      const std::string other = earlier != files_of_kind.end() ? earlier->second : "?";
      const bool is_alias = k != name;
      const yamlx::DocNode& where = root.at(is_alias ? "aliases" : "name");
      yamlx::fail(file, where.is_defined() ? where.line() : root.line(), is_alias ? "aliases" : "name",
                  fmt::format("duplicate {} '{}' (already used by '{}' in {})", kind, k, it->second, other),
                  "names and aliases unique per kind (case-insensitive)");
    }
    index[lk] = name;
  }
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


Catalog Catalog::load(const std::filesystem::path& config_dir) {
  namespace fs = std::filesystem;
  Catalog c;
  c.dir_ = config_dir;
  if (const PathCheck pc = check_path(config_dir); !pc.directory) {
    throw ConfigError(fmt::format("{}:1: key '(directory)': config directory not found{}; allowed: a directory "
                                  "with models/ gpus/ instances/ interconnects/ profiles/ engines/ workloads/",
                                  config_dir.string(), pc.reason_suffix()));
  }
  // Parse every file first, in parallel (YAML parsing is most of a catalog load, and every CLI call
  // loads the catalog), then interpret them in a fixed order so the first error and the iteration
  // order never depend on threads or the file system.
  const std::vector<std::vector<fs::path>> files_per_kind = yaml_files_per_kind(config_dir);
  std::vector<fs::path> all_paths;
  for (const auto& files : files_per_kind) all_paths.insert(all_paths.end(), files.begin(), files.end());
  const ParseCache cache(parse_cache_dir(), config_dir, all_paths);
  auto cached = cache.read();
  const bool from_cache = cached.has_value();
  const ParsedFiles parsed = from_cache ? ParsedFiles(std::move(*cached)) : parse_all(all_paths);
  std::vector<std::vector<std::string>> names_per_kind;
  for (const auto& files : files_per_kind) {
    auto& names = names_per_kind.emplace_back();
    for (const auto& path : files) names.push_back(path.string());
  }
  c.add_documents(names_per_kind, [&parsed](std::size_t i) { return parsed.take(i); });
  if (!from_cache) cache.write(parsed.copies());  // reached only when every file loaded cleanly
  return c;
}

Catalog Catalog::from_texts(const std::filesystem::path& config_dir, const Texts& files) {
  Catalog c;
  c.dir_ = config_dir;
  for (const auto& [kind, texts] : files) {
    if (normalize_kind(kind) != kind) {
      throw ConfigError(fmt::format("unknown catalog kind '{}'; allowed: {}", kind, yamlx::join(kKinds)));
    }
  }
  std::vector<std::vector<std::string>> names_per_kind;
  std::vector<const std::pair<std::string, std::string>*> all;  // (name, text) in load order
  for (const auto& info : kind_table()) {
    auto& names = names_per_kind.emplace_back();
    const auto it = files.find(info.dir);
    if (it == files.end()) continue;
    for (const auto& file : it->second) {
      names.push_back(file.first);
      all.push_back(&file);
    }
  }
  c.add_documents(names_per_kind, [&all](std::size_t i) {
    return std::make_shared<const yamlx::DocNode>(yamlx::load_text(all[i]->second, all[i]->first));
  });
  return c;
}

void Catalog::add_documents(const std::vector<std::vector<std::string>>& files_per_kind, const DocAt& doc_at) {
  std::size_t next_doc = 0;
  std::size_t kind_index = 0;
  for (const auto& info : kind_table()) {
    const std::string kind = info.dir;
    documents_[kind];
    index_[kind];
    for (const auto& file : files_per_kind[kind_index]) {
      const std::shared_ptr<const yamlx::DocNode> doc = doc_at(next_doc++);
      check_document_kind(*doc, file, info);
      const EntryNames entry = add_entry(*this, kind, *doc, file, files_[kind]);
      index_names(index_[kind], files_[kind], kind, entry, *doc, file);
      files_[kind][entry.name] = file;
      documents_[kind][entry.name] = doc;  // converted to JSON only when shown
    }
    ++kind_index;
  }
}

void Catalog::use_parse_cache(const std::filesystem::path& cache_dir) { parse_cache_dir() = cache_dir; }


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
                                names_or_none(names(k))));
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
