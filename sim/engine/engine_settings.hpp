#pragma once
// Resolves an engine's settings from its preset (configs/engines) plus --engine-set overrides.
// Each engine model asks for the settings it understands with defaults and ranges; finish()
// rejects any preset or override key nobody asked for, naming the allowed keys. resolved()
// records every value and where it came from (default / preset / override) for the summary JSON.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/catalog/specs.hpp"

namespace servetwin {

class EngineSettings {
 public:
  EngineSettings(const EngineSpec& preset, std::map<std::string, std::string> overrides);

  double number(const std::string& key, double default_value, double min_value, double max_value);
  std::int64_t integer(const std::string& key, std::int64_t default_value, std::int64_t min_value,
                       std::int64_t max_value);
  std::string choice(const std::string& key, const std::string& default_value, const std::vector<std::string>& allowed);
  bool flag(const std::string& key, bool default_value);
  // Free text whose allowed values another layer owns (fitted_on: the fit sets of configs/validation, checked by
  // `servetwin validate`).
  std::string text(const std::string& key, const std::string& default_value);
  // A number that may differ per platform: `KEY@QUALIFIER` (e.g. cpu_layer_ns@A100-40GB-SXM) wins
  // over `KEY` for that qualifier; every `KEY@*` entry counts as understood.
  double qualified_number(const std::string& key, const std::string& qualifier, double default_value,
                          double min_value, double max_value);
  // Whether the preset or an override gives `key`, without asking for it: a setting that only some presets
  // of an engine carry is then resolved (and reported) for those presets alone, so the others' resolved
  // settings stay exactly as they were.
  [[nodiscard]] bool has(const std::string& key) const;
  // Throws ConfigError for keys that were given but never asked for.
  void finish() const;
  [[nodiscard]] const nlohmann::json& resolved() const { return resolved_; }

 private:
  // Returns the raw text and its origin, or nullopt-equivalent (empty origin) when unset.
  std::pair<std::string, std::string> lookup(const std::string& key);
  [[nodiscard]] std::string where(const std::string& key, const std::string& origin) const;

  const EngineSpec& preset_;
  std::map<std::string, std::string> overrides_;
  std::vector<std::string> asked_;
  nlohmann::json resolved_ = nlohmann::json::object();
};

}  // namespace servetwin
