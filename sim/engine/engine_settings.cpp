#include "sim/engine/engine_settings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

EngineSettings::EngineSettings(const EngineSpec& preset, std::map<std::string, std::string> overrides)
    : preset_(preset), overrides_(std::move(overrides)) {}

std::pair<std::string, std::string> EngineSettings::lookup(const std::string& key) {
  asked_.push_back(key);
  if (auto it = overrides_.find(key); it != overrides_.end()) return {it->second, "override"};
  if (auto it = preset_.settings.find(key); it != preset_.settings.end()) return {fmt::format("{}", it->second), "preset"};
  if (auto it = preset_.text_settings.find(key); it != preset_.text_settings.end()) return {it->second, "preset"};
  return {"", ""};
}

bool EngineSettings::has(const std::string& key) const {
  return overrides_.count(key) > 0 || preset_.settings.count(key) > 0 || preset_.text_settings.count(key) > 0;
}

std::string EngineSettings::where(const std::string& key, const std::string& origin) const {
  return origin == "override" ? "--engine-set " + key : "engine preset '" + preset_.name + "' setting '" + key + "'";
}

double EngineSettings::number(const std::string& key, double default_value, double min_value, double max_value) {
  const auto [raw, origin] = lookup(key);
  double v = default_value;
  if (!origin.empty()) {
    try {
      std::size_t used = 0;
      v = std::stod(raw, &used);
      if (used != raw.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw ConfigError(fmt::format("{}: '{}' is not a number; allowed: a number in [{}, {}]", where(key, origin), raw,
                                    min_value, max_value));
    }
  }
  if (!(v >= min_value && v <= max_value)) {
    throw ConfigError(fmt::format("{}: {} is out of range; allowed: [{}, {}]", where(key, origin.empty() ? "preset" : origin),
                                  v, min_value, max_value));
  }
  resolved_[key] = {{"value", v}, {"from", origin.empty() ? "default" : origin}};
  return v;
}

std::int64_t EngineSettings::integer(const std::string& key, std::int64_t default_value, std::int64_t min_value,
                                     std::int64_t max_value) {
  const double v = number(key, static_cast<double>(default_value), static_cast<double>(min_value),
                          static_cast<double>(max_value));
  if (std::floor(v) != v) {
    throw ConfigError(fmt::format("engine setting '{}': {} is not an integer", key, v));
  }
  resolved_[key]["value"] = static_cast<std::int64_t>(v);
  return static_cast<std::int64_t>(v);
}

std::string EngineSettings::choice(const std::string& key, const std::string& default_value,
                                   const std::vector<std::string>& allowed) {
  const auto [raw, origin] = lookup(key);
  std::string v = origin.empty() ? default_value : raw;  // not const: returned by move
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    throw ConfigError(fmt::format("{}: '{}' is not allowed; allowed: {}", where(key, origin.empty() ? "preset" : origin), v,
                                  fmt::join(allowed, ", ")));
  }
  resolved_[key] = {{"value", v}, {"from", origin.empty() ? "default" : origin}};
  return v;
}

std::string EngineSettings::text(const std::string& key, const std::string& default_value) {
  const auto [raw, origin] = lookup(key);
  std::string v = origin.empty() ? default_value : raw;  // not const: returned by move
  resolved_[key] = {{"value", v}, {"from", origin.empty() ? "default" : origin}};
  return v;
}

bool EngineSettings::flag(const std::string& key, bool default_value) {
  const std::string v = choice(key, default_value ? "true" : "false", {"true", "false", "1", "0"});
  const bool b = v == "true" || v == "1";
  resolved_[key]["value"] = b;
  return b;
}

double EngineSettings::qualified_number(const std::string& key, const std::string& qualifier, double default_value,
                                        double min_value, double max_value) {
  const std::string prefix = key + "@";
  auto mark_known = [&](const auto& m) {
    for (const auto& [k, v] : m) {
      if (k.rfind(prefix, 0) == 0) asked_.push_back(k);
    }
  };
  mark_known(overrides_);
  mark_known(preset_.settings);
  asked_.push_back(key);  // the plain key is understood even when a qualified one wins
  const std::string qualified = prefix + qualifier;
  const bool has_qualified = overrides_.count(qualified) != 0 || preset_.settings.count(qualified) != 0;
  // A plain override (--engine-set KEY=V) applies to every platform.
  if (has_qualified && overrides_.count(key) == 0) {
    const double v = number(qualified, default_value, min_value, max_value);
    resolved_[key] = resolved_[qualified];
    resolved_[key]["qualifier"] = qualifier;
    return v;
  }
  return number(key, default_value, min_value, max_value);
}

void EngineSettings::finish() const {
  std::vector<std::string> unknown;
  auto check = [&](const std::string& key) {
    if (std::find(asked_.begin(), asked_.end(), key) == asked_.end()) unknown.push_back(key);
  };
  for (const auto& [k, v] : overrides_) check(k);
  for (const auto& [k, v] : preset_.settings) check(k);
  for (const auto& [k, v] : preset_.text_settings) check(k);
  if (!unknown.empty()) {
    std::vector<std::string> allowed = asked_;
    std::sort(allowed.begin(), allowed.end());
    // A key read twice (e.g. cost parameters read for the cost model and for the report) is listed once.
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    throw ConfigError(fmt::format("engine '{}' ({}): unknown setting(s) {}; allowed: {}", preset_.name, preset_.engine,
                                  fmt::join(unknown, ", "), fmt::join(allowed, ", ")));
  }
}

}  // namespace servetwin
