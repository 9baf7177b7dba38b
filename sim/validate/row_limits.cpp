#include "sim/validate/row_limits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <regex>

namespace servetwin {
namespace {

long long parse_count(std::string digits) {
  digits.erase(std::remove(digits.begin(), digits.end(), ','), digits.end());
  return std::stoll(digits);
}

// The limit in force for `key`: the row's or policy's engine_set, else the preset's setting, else the engine's
// own default when the rule knows it (the model's max_position_embeddings); nullopt when unknown.
std::optional<long long> current_limit(const LengthLimitSetting& s, const EngineSpec& spec, const ModelSpec& model,
                                       const DeploymentConfig& d) {
  if (auto it = d.engine_set.find(s.key); it != d.engine_set.end()) {
    try {
      return static_cast<long long>(std::stod(it->second));
    } catch (const std::exception&) {
      return std::nullopt;  // not a number: the engine's own settings check reports it
    }
  }
  if (auto it = spec.settings.find(s.key); it != spec.settings.end()) return static_cast<long long>(it->second);
  if (s.unset_is_model_max) return model.max_position_embeddings;
  return std::nullopt;
}

}  // namespace

std::optional<long long> stated_prompt_tokens(const ValidationRow& row) {
  std::optional<long long> longest;
  if (auto mean = row.number("input_tokens_mean"); mean && *mean > 0) longest = static_cast<long long>(std::ceil(*mean));
  static const std::regex max_re(
      "(?:maximum|max|longest (?:input|prompt)(?: is)?|up to)\\s*[=:]?\\s*([0-9][0-9,]*)", std::regex::icase);
  const std::string& desc = row.get("input_tokens_desc");
  for (auto it = std::sregex_iterator(desc.begin(), desc.end(), max_re); it != std::sregex_iterator(); ++it) {
    const long long n = parse_count((*it)[1].str());
    if (!longest || n > *longest) longest = n;
  }
  return longest;
}

void raise_length_limits(const RowDeploymentPolicy& policy, const ValidationRow& row, const EngineSpec& spec,
                         const std::string& load_type, const ModelSpec& model, DeploymentConfig& d,
                         std::vector<std::string>& notes) {
  const auto prompt = stated_prompt_tokens(row);
  if (!prompt) return;
  const auto out_mean = row.number("output_tokens_mean");
  const long long output = out_mean && *out_mean > 0 ? static_cast<long long>(std::ceil(*out_mean)) : 0;
  for (const auto& rule : policy.length_limits) {
    if (rule.engine != spec.engine) continue;
    if (std::find(rule.not_load_types.begin(), rule.not_load_types.end(), load_type) != rule.not_load_types.end()) {
      continue;
    }
    for (const auto& s : rule.settings) {
      const long long needed = s.covers_output ? *prompt + output : *prompt;
      const auto current = current_limit(s, spec, model, d);
      if (!current || needed <= *current) continue;
      d.engine_set[s.key] = fmt::format("{}", needed);
      notes.push_back(fmt::format("{} raised from {} to {}: the row states a {}-token prompt{} (the deployment must "
                                  "have raised it)",
                                  s.key, *current, needed, *prompt,
                                  s.covers_output ? fmt::format(" and {} output tokens", output) : ""));
    }
  }
}

}  // namespace servetwin
