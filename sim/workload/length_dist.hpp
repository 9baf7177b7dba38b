#pragma once
// Synthetic request lengths: fixed, normal, uniform or lognormal, clamped to [min, max] and rounded.
// Boost.Random distributions: bit-identical across standard libraries.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/catalog/specs.hpp"
#include "sim/core/rng.hpp"

namespace servetwin {

std::int64_t draw_length(const LengthDist& d, Rng& rng);
// Throws ConfigError if the distribution's parameters are invalid; `what` names the field.
void validate_length_dist(const LengthDist& d, const std::string& what);

// {dist, mean, stddev, min, max}: how reports show a distribution.
nlohmann::json length_dist_json(const LengthDist& d);

// The forms parse_length_dist accepts, for help texts and errors.
inline constexpr const char* kLengthDistForms = "N (fixed), normal:MEAN,SD, uniform:MIN,MAX, lognormal:MEAN,SD";
// A length distribution as `--input-tokens` / `--output-tokens` give it (as vLLM bench's random
// dataset and GuideLLM's synthetic data do): "512", "normal:512,64", "uniform:128,1024",
// "lognormal:512,256". Throws ConfigError naming `option` and the allowed forms.
LengthDist parse_length_dist(const std::string& text, const std::string& option);

}  // namespace servetwin
