#pragma once
// The configs/ catalog: one YAML file per entry, strictly parsed.
// Errors (unknown key, wrong type, out-of-range value, missing source) throw ConfigError naming
// file, line, key and what is allowed; the CLI turns ConfigError into exit code 2.
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/catalog/specs.hpp"

namespace servetwin::yamlx {
class DocNode;  // sim/catalog/doc_node.hpp
}  // namespace servetwin::yamlx

namespace servetwin {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Finds the configs/ directory: $SERVETWIN_CONFIG_DIR, else the path baked in at build time.
std::filesystem::path default_config_dir();

class Catalog {
 public:
  // Loads every entry under `config_dir` (models/, gpus/, instances/, interconnects/, profiles/,
  // engines/, workloads/). Throws ConfigError on the first bad file.
  static Catalog load(const std::filesystem::path& config_dir);
  // Loads default_config_dir() ($SERVETWIN_CONFIG_DIR or the shipped configs/).
  static Catalog load();
  // A catalog from in-memory files: kind directory (kinds()) -> (file name used in errors, YAML text),
  // each kind's files in the order given. `config_dir` anchors workloads' dataset paths. load() parses
  // its files and interprets them through the same code, so the errors are the same.
  using Texts = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;
  static Catalog from_texts(const std::filesystem::path& config_dir, const Texts& files);
  // Process-wide: keep parsed YAML in `cache_dir` across runs (parse_cache.hpp); empty = off (default).
  static void use_parse_cache(const std::filesystem::path& cache_dir);

  // The catalog kinds in display order, and the singular file `kind:` each directory holds.
  static const std::vector<std::string>& kinds();
  // "gpu" / "GPUS" / "gpus" -> "gpus"; empty string when not a kind.
  static std::string normalize_kind(const std::string& kind);

  [[nodiscard]] const ModelSpec& model(const std::string& name_or_alias) const;
  [[nodiscard]] const GpuSpec& gpu(const std::string& name_or_alias) const;
  [[nodiscard]] const InstanceSpec& instance(const std::string& name) const;
  [[nodiscard]] const InterconnectSpec& interconnect(const std::string& name) const;
  [[nodiscard]] const HardwareProfile& profile(const std::string& gpu_name) const;
  [[nodiscard]] const EngineSpec& engine(const std::string& name) const;
  [[nodiscard]] const WorkloadSpec& workload(const std::string& name) const;

  [[nodiscard]] bool has_model(const std::string& n) const;
  [[nodiscard]] bool has_gpu(const std::string& n) const;
  [[nodiscard]] bool has_instance(const std::string& n) const;
  [[nodiscard]] bool has_profile(const std::string& gpu_name) const;
  [[nodiscard]] bool has_interconnect(const std::string& n) const;
  [[nodiscard]] bool has_engine(const std::string& n) const;
  [[nodiscard]] bool has_workload(const std::string& n) const;

  // Canonical entry name for a name or alias (case-insensitive) of `kind`; throws ConfigError
  // listing the available names when unknown.
  [[nodiscard]] std::string resolve(const std::string& kind, const std::string& name_or_alias) const;

  // kind is one of: models gpus instances interconnects profiles engines workloads
  [[nodiscard]] std::vector<std::string> names(const std::string& kind) const;  // sorted
  // The parsed YAML entry as JSON (values and their sources), for `show` and for resolved configs.
  [[nodiscard]] nlohmann::json document(const std::string& kind, const std::string& name) const;

  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  std::map<std::string, ModelSpec> models;
  std::map<std::string, GpuSpec> gpus;
  std::map<std::string, InstanceSpec> instances;
  std::map<std::string, InterconnectSpec> interconnects;
  std::map<std::string, HardwareProfile> profiles;  // keyed by GPU name
  std::map<std::string, EngineSpec> engines;
  std::map<std::string, WorkloadSpec> workloads;

 private:
  // Interprets parsed files in load order: `files_per_kind` lists each kind's file names (kind_table()
  // order), `doc_at(i)` returns the i-th file's document overall (or throws its parse error).
  using DocAt = std::function<std::shared_ptr<const yamlx::DocNode>(std::size_t)>;
  void add_documents(const std::vector<std::vector<std::string>>& files_per_kind, const DocAt& doc_at);

  std::filesystem::path dir_;
  // kind -> canonical name -> the entry's parsed file (shared: catalogs are copied by value).
  std::map<std::string, std::map<std::string, std::shared_ptr<const yamlx::DocNode>>> documents_;
  // kind -> lower-cased name or alias -> canonical name (case-insensitive lookup).
  std::map<std::string, std::map<std::string, std::string>> index_;
  // kind -> canonical name -> file it came from (for duplicate-name errors).
  std::map<std::string, std::map<std::string, std::string>> files_;
};

}  // namespace servetwin
