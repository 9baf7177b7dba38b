#pragma once
// Synthetic request lengths: fixed, normal, uniform or lognormal, clamped to [min, max] and rounded.
// Boost.Random distributions: bit-identical across standard libraries.
#include <cstdint>

#include "sim/catalog/specs.hpp"
#include "sim/core/rng.hpp"

namespace servetwin {

std::int64_t draw_length(const LengthDist& d, Rng& rng);
// Throws ConfigError if the distribution's parameters are invalid; `what` names the field.
void validate_length_dist(const LengthDist& d, const std::string& what);

}  // namespace servetwin
