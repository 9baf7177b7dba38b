// Reads configs/validation/ through the catalog's strict YAML layer, and checks it against the catalog.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <regex>

#include "sim/cost/weight_datapath.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/catalog/strict_yaml.hpp"
#include "sim/core/path_check.hpp"
#include "sim/validate/validation_policy.hpp"

namespace servetwin {
namespace {

using yamlx::MapReader;

const std::vector<std::string> kLoadTypes = {"poisson_rate", "closed_concurrency", "offline", "static_batch"};

MapReader document(const yamlx::DocNode& root, const std::string& file, const std::string& kind,
                   std::vector<std::string> keys) {
  if (!root.is_map()) yamlx::fail(file, root.line(), "(document)", "expected a mapping", "kind: " + kind);
  keys.insert(keys.begin(), "kind");
  MapReader r(root, file, "", std::move(keys), root.line());  // not const: returned by move
  r.enumeration("kind", {kind}, true);
  return r;
}

std::vector<std::string> nonempty_list(const MapReader& r, const std::string& key, const std::string& allowed) {
  auto v = r.string_list(key);
  if (v.empty()) r.fail_at(key, "missing or empty list", allowed);
  return v;
}

void check_each_in(const MapReader& r, const std::string& key, const std::vector<std::string>& values,
                   const std::vector<std::string>& allowed) {
  for (const auto& v : values) {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      r.fail_at(key, fmt::format("bad value '{}'", v), yamlx::join(allowed));
    }
  }
}

std::vector<Spelling> read_spellings(const MapReader& r, const std::string& key, const std::string& canonical_key) {
  std::vector<Spelling> out;
  for (const auto& item : r.child_list(key, {canonical_key, "spellings"}, true)) {
    out.push_back({item.str(canonical_key, true), nonempty_list(item, "spellings", "a list of spellings")});
  }
  return out;
}

std::pair<int, int> major_minor_field(const MapReader& r, const std::string& key) {
  static const std::regex re("^([0-9]+)\\.([0-9]+)$");
  const std::string text = r.str(key, true);
  std::smatch m;
  if (!std::regex_match(text, m, re)) r.fail_at(key, fmt::format("bad version '{}'", text), "MAJOR.MINOR, e.g. \"0.3\"");
  return {std::stoi(m[1].str()), std::stoi(m[2].str())};
}

std::vector<PresetRule> read_preset_rules(const MapReader& r) {
  std::vector<PresetRule> out;
  for (const auto& item : r.child_list(
           "presets", {"engines", "load_types", "preset", "engine_name", "unstated_version", "eras", "why"}, false)) {
    PresetRule rule;
    rule.engines = nonempty_list(item, "engines", "engine names (tgis, tgi, vllm, trtllm, ...; unstated = empty cell)");
    rule.load_types = item.string_list("load_types");
    check_each_in(item, "load_types", rule.load_types, kLoadTypes);
    if (item.has("eras") == item.has("preset")) {
      item.fail_at("preset", "give either preset or eras (with unstated_version)", "preset: NAME | eras: [...]");
    }
    rule.preset = item.str("preset", false);
    if (item.has("eras")) {
      rule.engine_name = item.str("engine_name", true);
      rule.unstated_version = item.str("unstated_version", true);
      for (const auto& era : item.child_list("eras", {"up_to", "preset"}, true)) {
        VersionEra e;
        if (era.has("up_to")) e.up_to = major_minor_field(era, "up_to");
        e.preset = era.str("preset", true);
        rule.eras.push_back(std::move(e));
      }
      if (rule.eras.empty() || rule.eras.back().up_to) {
        item.fail_at("eras", "the last era must have no up_to (it takes every later version)", "{preset: NAME}");
      }
    }
    out.push_back(std::move(rule));
  }
  return out;
}

std::vector<RowCondition> read_row_conditions(const MapReader& r, const std::string& key) {
  static const std::vector<std::pair<std::string, RowCondition::Test>> kTests = {
      {"contains", RowCondition::Test::kContains},
      {"starts_with", RowCondition::Test::kStartsWith},
      {"ends_with", RowCondition::Test::kEndsWith}};
  std::vector<RowCondition> out;
  for (const auto& item : r.child_list(key, {"column", "contains", "starts_with", "ends_with"}, true)) {
    RowCondition c;
    c.column = item.str("column", true);
    int tests = 0;
    for (const auto& [name, test] : kTests) {
      if (!item.has(name)) continue;
      ++tests;
      c.test = test;
      c.any_of = nonempty_list(item, name, "a list of strings");
    }
    if (tests != 1) item.fail_at("column", "give exactly one test", "contains | starts_with | ends_with: [...]");
    out.push_back(std::move(c));
  }
  if (out.empty()) r.fail_at(key, "no row conditions (every row would be a fit row)", "a list of conditions");
  return out;
}

std::vector<FitSet> read_fit_sets(const MapReader& r, const std::string& source) {
  std::vector<FitSet> out;
  for (const auto& item : r.child_list("fit_sets", {"name", "preset", "parameters", "why", "rows"}, false)) {
    FitSet f;
    f.name = item.str("name", true);
    if (f.name == "none") item.fail_at("name", "'none' is reserved (a preset fitted on nothing)", "another name");
    f.source = source;
    f.preset = item.str("preset", true);
    f.parameters = nonempty_list(item, "parameters", "the fitted parameter names");
    (void)item.str("why", true);
    f.rows = read_row_conditions(item, "rows");
    f.file = r.file();
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<EngineSettingRule> read_engine_settings(const MapReader& r) {
  std::vector<EngineSettingRule> out;
  for (const auto& item :
       r.child_list("engine_settings", {"presets", "dtypes", "not_dtypes", "load_types", "set", "why"}, false)) {
    EngineSettingRule rule;
    rule.presets = item.string_list("presets");
    rule.dtypes = item.string_list("dtypes");
    rule.not_dtypes = item.string_list("not_dtypes");
    rule.load_types = item.string_list("load_types");
    check_each_in(item, "dtypes", rule.dtypes, weight_dtypes());
    check_each_in(item, "not_dtypes", rule.not_dtypes, weight_dtypes());
    check_each_in(item, "load_types", rule.load_types, kLoadTypes);
    for (const auto& kv : item.child_list("set", {"key", "value"}, true)) {
      rule.set.emplace_back(kv.str("key", true), kv.str("value", true));
    }
    if (rule.set.empty()) item.fail_at("set", "empty", "a list of {key: K, value: V}");
    (void)item.str("why", true);
    out.push_back(std::move(rule));
  }
  return out;
}

ReplayConvention read_replay(const MapReader& r) {
  const MapReader item = r.child("replay", {"format", "workload", "trace", "records", "why"});
  ReplayConvention c;
  c.format = item.enumeration("format", {"distserve"}, true);
  c.workload = item.str("workload", true);
  c.trace = item.str("trace", true);
  c.records = item.str("records", false);
  (void)item.str("why", true);
  return c;
}

SourcePolicy read_source(const std::filesystem::path& path) {
  const std::string file = path.string();
  const yamlx::DocNode root = yamlx::load_file(path);
  const MapReader r = document(root, file, "validation_source",
                               {"source", "name", "csv", "provenance", "presets", "fit_sets", "engine_settings",
                                "replay"});
  SourcePolicy s;
  s.source = r.str("source", true);
  if (s.source.empty() || s.source.find(':') != std::string::npos) {
    r.fail_at("source", fmt::format("bad source '{}'", s.source), "the source_id prefix before the first ':'");
  }
  s.name = r.str("name", true);
  (void)r.str("csv", true);
  (void)r.str("provenance", true);
  s.file = file;
  s.presets = read_preset_rules(r);
  s.fit_sets = read_fit_sets(r, s.source);
  s.engine_settings = read_engine_settings(r);
  if (r.has("replay")) s.replay = read_replay(r);
  return s;
}

}  // namespace

ValidationPolicy load_validation_policy(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const fs::path mapping = dir / "row_mapping.yaml";
  if (!check_path(mapping).regular) {
    throw ConfigError(fmt::format("{}:1: key '(file)': validation policy not found; allowed: a folder with "
                                  "row_mapping.yaml and sources/*.yaml (the shipped one is configs/validation)",
                                  mapping.string()));
  }
  ValidationPolicy p;
  const yamlx::DocNode root = yamlx::load_file(mapping);
  const MapReader r = document(root, mapping.string(), "validation_row_mapping",
                               {"description", "engine_spellings", "load_type_spellings", "presets", "engine_settings"});
  (void)r.str("description", true);
  p.engine_spellings = read_spellings(r, "engine_spellings", "engine");
  p.load_type_spellings = read_spellings(r, "load_type_spellings", "load_type");
  p.presets = read_preset_rules(r);
  p.engine_settings = read_engine_settings(r);
  p.deployment = load_row_deployment_policy(dir / "row_deployment.yaml");
  std::vector<fs::path> files;
  if (check_path(dir / "sources").directory) {
    for (const auto& e : fs::directory_iterator(dir / "sources")) {
      if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> fit_names;
  for (const auto& f : files) {
    SourcePolicy s = read_source(f);
    for (const auto& fs_ : s.fit_sets) {
      if (std::find(fit_names.begin(), fit_names.end(), fs_.name) != fit_names.end()) {
        throw ConfigError(fmt::format("{}: fit set '{}' is defined twice; allowed: one definition per name", f.string(),
                                      fs_.name));
      }
      fit_names.push_back(fs_.name);
    }
    const std::string id = s.source;
    if (!p.sources.emplace(id, std::move(s)).second) {
      throw ConfigError(fmt::format("{}: source '{}' is described twice; allowed: one file per source (other: {})",
                                    f.string(), id, p.sources.at(id).file));
    }
  }
  return p;
}

void check_policy_against_catalog(const ValidationPolicy& policy, const Catalog& catalog,
                                  const std::filesystem::path& dir) {
  auto preset_exists = [&](const std::string& preset, const std::string& file) {
    if (!catalog.has_engine(preset)) {
      throw ConfigError(fmt::format("{}: engine preset '{}' is not in the catalog; allowed: a file in configs/engines",
                                    file, preset));
    }
  };
  auto rules_exist = [&](const std::vector<PresetRule>& rules, const std::string& file) {
    for (const auto& rule : rules) {
      if (!rule.preset.empty()) preset_exists(rule.preset, file);
      for (const auto& era : rule.eras) preset_exists(era.preset, file);
      if (!rule.eras.empty()) preset_exists(rule.unstated_version, file);
    }
  };
  rules_exist(policy.presets, (dir / "row_mapping.yaml").string());
  check_row_deployment_policy(policy.deployment, catalog, dir / "row_deployment.yaml");
  for (const auto& rule : policy.engine_settings) {
    for (const auto& preset : rule.presets) preset_exists(preset, (dir / "row_mapping.yaml").string());
  }
  for (const auto& [id, src] : policy.sources) {
    rules_exist(src.presets, src.file);
    for (const auto& f : src.fit_sets) {
      preset_exists(f.preset, f.file);
      const auto& ts = catalog.engine(f.preset).text_settings;
      const auto it = ts.find("fitted_on");
      const std::string claimed = it == ts.end() ? "none" : it->second;
      if (claimed != f.name) {
        throw ConfigError(fmt::format("{}: fit set '{}' names preset '{}', whose fitted_on is '{}'; allowed: the "
                                      "preset's fitted_on names this set",
                                      f.file, f.name, f.preset, claimed));
      }
    }
  }
  const auto names = policy.fit_set_names();
  for (const auto& [name, spec] : catalog.engines) {
    const auto it = spec.text_settings.find("fitted_on");
    if (it == spec.text_settings.end()) continue;
    if (std::find(names.begin(), names.end(), it->second) == names.end()) {
      throw ConfigError(fmt::format("engine preset '{}': fitted_on '{}' is not a fit set of {}; allowed: {}", name,
                                    it->second, (dir / "sources").string(), fmt::join(names, ", ")));
    }
    const FitSet* f = policy.find_fit_set(it->second);
    if (f != nullptr && f->preset != name) {
      throw ConfigError(fmt::format("engine preset '{}': fitted_on '{}', but {} says that set fitted preset '{}'; "
                                    "allowed: one preset per fit set",
                                    name, it->second, f->file, f->preset));
    }
  }
}

}  // namespace servetwin
