#pragma once
// The validation policy as data (configs/validation/, read by validation_policy_file.cpp): how a published
// row maps to an engine preset, which rows each preset was fitted on (the fit/score split) and each source's
// own conventions. row_mapping.yaml holds the rules for every row; sources/<source>.yaml one published
// source's provenance, preset overrides, fit sets and conventions. Adding a source = one YAML (+ its CSV).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/validate/row_deployment_policy.hpp"
#include "sim/validate/validation_csv.hpp"

namespace servetwin {

class Catalog;

// One test on a row's cell: the cell contains / starts with / ends with any of `any_of`.
struct RowCondition {
  enum class Test { kContains, kStartsWith, kEndsWith };
  std::string column;
  Test test = Test::kContains;
  std::vector<std::string> any_of;
  [[nodiscard]] bool holds(const ValidationRow& row) const;
};

// Rows of one source a preset's fitted values came from: validate runs them but never scores them.
struct FitSet {
  std::string name;
  std::string source;                   // the source whose rows these are
  std::string preset;                   // the engine preset fitted on them (its fitted_on names this set)
  std::vector<std::string> parameters;  // what was fitted
  std::vector<RowCondition> rows;       // all must hold
  std::string file;                     // the YAML that defines it, for errors
};

// vLLM-style version eras: the first era whose `up_to` (major, minor) is >= the row's wins; no `up_to` = any.
struct VersionEra {
  std::optional<std::pair<int, int>> up_to;
  std::string preset;
};

// Engine (canonical name; "unstated" = empty cell) and load type -> preset. Either `preset`, or
// `unstated_version` + `eras` to choose by the row's engine_version (`engine_name` names it in reasons).
struct PresetRule {
  std::vector<std::string> engines;
  std::vector<std::string> load_types;  // empty: any load type
  std::string preset;
  std::string engine_name;
  std::string unstated_version;
  std::vector<VersionEra> eras;
};

// engine_set entries a row's deployment gets when every given condition holds (empty list: any).
struct EngineSettingRule {
  std::vector<std::string> presets;
  std::vector<std::string> dtypes;      // the deployment's weights precision (fp16, bf16, fp8)
  std::vector<std::string> not_dtypes;
  std::vector<std::string> load_types;
  std::vector<std::pair<std::string, std::string>> set;
  [[nodiscard]] bool applies(const std::string& preset, const std::string& dtype, const std::string& load_type) const;
};

// A source that published per-request files: rows of `workload` replay them (paths relative to the
// CSV's folder, `{run}` = the last ':' field of source_id).
struct ReplayConvention {
  std::string format;  // reader: "distserve"
  std::string workload;
  std::string trace;
  std::string records;  // per-request records, for the prefill-batch fingerprint (empty: none)
};

struct SourcePolicy {
  std::string source;  // the source_id prefix
  std::string name;    // display name in reasons
  std::string file;
  std::vector<PresetRule> presets;  // tried before row_mapping.yaml's
  std::vector<FitSet> fit_sets;
  std::vector<EngineSettingRule> engine_settings;
  std::optional<ReplayConvention> replay;
};

struct Spelling {
  std::string canonical;
  std::vector<std::string> spellings;
};

struct ValidationPolicy {
  std::vector<Spelling> engine_spellings;
  std::vector<Spelling> load_type_spellings;
  std::vector<PresetRule> presets;
  std::vector<EngineSettingRule> engine_settings;  // for every row, before its source's own
  std::map<std::string, SourcePolicy> sources;  // by source_id prefix
  RowDeploymentPolicy deployment;               // row_deployment.yaml: reading gpu/model/precision cells

  // The row's source policy, or nullptr when no file describes its source.
  [[nodiscard]] const SourcePolicy* source_of(const ValidationRow& row) const;
  // "none" and every fit set's name, in file order.
  [[nodiscard]] std::vector<std::string> fit_set_names() const;
  // True when `row` belongs to `fit_set` ("none": never); ConfigError for an unknown name.
  [[nodiscard]] bool row_in_fit_set(const std::string& fit_set, const ValidationRow& row) const;
  [[nodiscard]] const FitSet* find_fit_set(const std::string& name) const;  // nullptr when unknown
};

// Reads `dir`/row_mapping.yaml and `dir`/sources/*.yaml strictly (unknown keys, missing keys and bad values fail
// with FILE:LINE: key 'KEY': problem; allowed: ...).
ValidationPolicy load_validation_policy(const std::filesystem::path& dir);

// Checks the policy against the catalog: every preset a rule names exists, every fit set's preset names that
// set in its `fitted_on`, and every preset's `fitted_on` is a fit set of the policy. Throws ConfigError.
void check_policy_against_catalog(const ValidationPolicy& policy, const Catalog& catalog,
                                  const std::filesystem::path& dir);

// The shipped policy folder next to a catalog directory (configs/validation).
std::filesystem::path default_validation_policy_dir(const Catalog& catalog);

}  // namespace servetwin
