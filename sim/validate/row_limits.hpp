#pragma once
// A row whose stated prompt (and output) exceeds an engine preset's default length limit was served by a
// deployment that raised it: the limits named in configs/validation/row_deployment.yaml (length_limits) are
// raised to the row's lengths, never lowered, and the row's notes say so.
#include <optional>
#include <string>
#include <vector>

#include "sim/catalog/specs.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/validate/row_deployment_policy.hpp"
#include "sim/validate/validation_csv.hpp"

namespace servetwin {

// The longest prompt the row states: input_tokens_mean (rounded up) or the largest count input_tokens_desc gives
// after "max", "maximum", "longest input/prompt (is)" or "up to"; nullopt when it states none.
std::optional<long long> stated_prompt_tokens(const ValidationRow& row);

// Raises `d.engine_set` limits of `spec.engine` to what the row's lengths need; appends a note per raised key.
void raise_length_limits(const RowDeploymentPolicy& policy, const ValidationRow& row, const EngineSpec& spec,
                         const std::string& load_type, const ModelSpec& model, DeploymentConfig& d,
                         std::vector<std::string>& notes);

}  // namespace servetwin
