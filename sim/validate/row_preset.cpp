#include "sim/validate/row_preset.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>

#include "sim/catalog/strict_yaml.hpp"
#include "sim/core/string_list.hpp"

namespace servetwin {
namespace {

std::string fold(const std::vector<Spelling>& spellings, const std::string& s) {
  for (const auto& sp : spellings) {
    if (std::find(sp.spellings.begin(), sp.spellings.end(), s) != sp.spellings.end()) return sp.canonical;
  }
  return s;
}

// Major and minor of a version cell ("0.6.3.post1", "v0.10.1rc2"); nullopt when it has no number.
std::optional<std::pair<int, int>> major_minor(const std::string& version) {
  std::smatch m;
  static const std::regex re("^[vV]?([0-9]+)\\.([0-9]+)");
  if (!std::regex_search(version, m, re)) return std::nullopt;
  return std::make_pair(std::stoi(m[1].str()), std::stoi(m[2].str()));
}

PresetChoice by_version(const PresetRule& rule, const std::string& version) {
  if (version.empty()) return {rule.unstated_version, ""};
  const auto mm = major_minor(version);
  if (!mm) return {"", fmt::format("{} version '{}' is not a version number (e.g. 0.6.3)", rule.engine_name, version)};
  for (const auto& era : rule.eras) {
    if (!era.up_to || *mm <= *era.up_to) return {era.preset, ""};
  }
  return {"", "no era"};  // unreachable: the loader requires a last era without up_to
}

// "offline and static-batch": the load types the default rules accept for an unstated engine.
std::string unstated_load_types(const std::vector<PresetRule>& rules) {
  std::vector<std::string> types;
  for (const auto& r : rules) {
    if (!list_contains(r.engines, "unstated")) continue;
    for (auto t : r.load_types) {
      std::replace(t.begin(), t.end(), '_', '-');
      if (!list_contains(types, t)) types.push_back(t);
    }
  }
  if (types.empty()) return "";
  std::string last = types.back();
  types.pop_back();
  return fmt::format("; unstated only for {}{}{} rows", fmt::join(types, ", "), types.empty() ? "" : " and ", last);
}

std::string engines_named(const std::vector<PresetRule>& rules) {
  std::vector<std::string> names;
  for (const auto& r : rules) {
    for (const auto& e : r.engines) {
      if (e != "unstated" && !list_contains(names, e)) names.push_back(e);
    }
  }
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

std::string canonical_engine(const ValidationPolicy& policy, const std::string& cell) {
  std::string e = yamlx::lower(cell);
  e.erase(std::remove_if(e.begin(), e.end(), [](unsigned char ch) { return std::isspace(ch) != 0; }), e.end());
  return fold(policy.engine_spellings, e);
}

std::string canonical_load_type(const ValidationPolicy& policy, const std::string& cell) {
  std::string t = yamlx::lower(cell);
  std::replace(t.begin(), t.end(), '-', '_');
  return fold(policy.load_type_spellings, t);
}

PresetChoice choose_preset(const ValidationPolicy& policy, const ValidationRow& row, const std::string& engine,
                           const std::string& load_type) {
  const std::string key = engine.empty() ? "unstated" : engine;
  bool engine_named = false;
  auto first_match = [&](const std::vector<PresetRule>& rules) -> std::optional<PresetChoice> {
    for (const auto& rule : rules) {
      if (!list_contains(rule.engines, key)) continue;
      engine_named = true;
      if (!rule.load_types.empty() && !list_contains(rule.load_types, load_type)) continue;
      if (!rule.preset.empty()) return PresetChoice{rule.preset, ""};
      return by_version(rule, row.get("engine_version"));
    }
    return std::nullopt;
  };
  if (const SourcePolicy* src = policy.source_of(row)) {
    if (auto c = first_match(src->presets)) return *c;
  }
  if (auto c = first_match(policy.presets)) return *c;
  if (engine_named) return {"", fmt::format("engine '{}' with load type '{}' has no engine model", engine, load_type)};
  return {"", fmt::format("engine '{}' is not modelled ({}{})", row.get("engine"), engines_named(policy.presets),
                          unstated_load_types(policy.presets))};
}

}  // namespace servetwin
