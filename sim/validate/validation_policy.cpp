#include "sim/validate/validation_policy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

bool RowCondition::holds(const ValidationRow& row) const {
  const std::string& cell = row.get(column);
  for (const auto& v : any_of) {
    switch (test) {
      case Test::kContains:
        if (cell.find(v) != std::string::npos) return true;
        break;
      case Test::kStartsWith:
        if (cell.rfind(v, 0) == 0) return true;
        break;
      case Test::kEndsWith:
        if (cell.size() >= v.size() && cell.compare(cell.size() - v.size(), v.size(), v) == 0) return true;
        break;
    }
  }
  return false;
}

bool EngineSettingRule::applies(const std::string& preset, const std::string& dtype,
                                const std::string& load_type) const {
  auto in = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  return (presets.empty() || in(presets, preset)) && (dtypes.empty() || in(dtypes, dtype)) && !in(not_dtypes, dtype) &&
         (load_types.empty() || in(load_types, load_type));
}

const SourcePolicy* ValidationPolicy::source_of(const ValidationRow& row) const {
  auto it = sources.find(row.source());
  return it == sources.end() ? nullptr : &it->second;
}

std::vector<std::string> ValidationPolicy::fit_set_names() const {
  std::vector<std::string> names = {"none"};
  for (const auto& [id, src] : sources) {
    for (const auto& f : src.fit_sets) names.push_back(f.name);
  }
  return names;
}

const FitSet* ValidationPolicy::find_fit_set(const std::string& name) const {
  for (const auto& [id, src] : sources) {
    for (const auto& f : src.fit_sets) {
      if (f.name == name) return &f;
    }
  }
  return nullptr;
}

bool ValidationPolicy::row_in_fit_set(const std::string& fit_set, const ValidationRow& row) const {
  if (fit_set == "none") return false;
  const FitSet* f = find_fit_set(fit_set);
  if (f == nullptr) {
    throw ConfigError(fmt::format("unknown fit set '{}'; known: {}", fit_set, fmt::join(fit_set_names(), ", ")));
  }
  if (row.source() != f->source) return false;
  for (const auto& c : f->rows) {
    if (!c.holds(row)) return false;
  }
  return true;
}

std::filesystem::path default_validation_policy_dir(const Catalog& catalog) { return catalog.dir() / "validation"; }

}  // namespace servetwin
