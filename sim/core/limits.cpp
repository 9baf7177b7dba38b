#include "sim/core/limits.hpp"

#include <fmt/format.h>

#include <cmath>

namespace servetwin {

std::string describe_limit(const Limit& limit) {
  return fmt::format("{} in {}{:g}, {:g}] {}", limit.integer ? "an integer" : "a number", limit.lo_open ? "(" : "[",
                     limit.lo, limit.hi, limit.what);
}

std::string limit_violation(double v, const Limit& limit) {
  const bool below = limit.lo_open ? !(v > limit.lo) : !(v >= limit.lo);
  const bool bad = !std::isfinite(v) || below || !(v <= limit.hi) || (limit.integer && v != std::floor(v));
  if (!bad) return "";
  return "out of range; allowed: " + describe_limit(limit);
}

}  // namespace servetwin
