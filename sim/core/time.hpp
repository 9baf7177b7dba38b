#pragma once
// Simulated time: integer nanoseconds, so event order never depends on floating-point rounding.
#include <cmath>
#include <cstdint>

namespace servetwin {

using TimeNs = std::int64_t;

constexpr TimeNs kNsPerUs = 1'000;
constexpr TimeNs kNsPerMs = 1'000'000;
constexpr TimeNs kNsPerS = 1'000'000'000;

// Rounds a duration in seconds to the nearest nanosecond (durations are never negative here).
inline TimeNs seconds_to_ns(double seconds) { return static_cast<TimeNs>(std::llround(seconds * 1e9)); }
inline double ns_to_seconds(TimeNs ns) { return static_cast<double>(ns) * 1e-9; }
inline double ns_to_ms(TimeNs ns) { return static_cast<double>(ns) * 1e-6; }

}  // namespace servetwin
