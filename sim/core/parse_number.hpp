#pragma once
// Strict number parsing for every reader of user files and flags: the whole text must be the
// number (no trailing "abc", no leading space), finite (no nan/inf), and an integer where an
// integer is asked for ("512.7" and "1e12" are not integers). std::stod/stoll accept a prefix
// ("5abc" -> 5) and std::stoll reads "1e12" as 1, which is how bad traces used to slip through.
#include <cstdint>
#include <string_view>

namespace servetwin {

// A finite decimal number ("2.5", "1e-3", "+4"); false otherwise.
bool parse_finite_double(std::string_view text, double& out);

// A whole decimal integer ("512", "-3", "+7"); false for "512.7", "1e3", "5abc", "" or overflow.
bool parse_int64(std::string_view text, std::int64_t& out);

// A non-negative whole decimal integer up to 2^64 - 1 (seeds); false for "-1".
bool parse_uint64(std::string_view text, std::uint64_t& out);

// A duration in seconds: a finite number with an optional unit ms | s | m | h ("500ms", "30s", "2m",
// "1.5h"; a bare number is seconds), as `predict` and `load` both read --duration. False otherwise.
bool parse_duration_seconds(std::string_view text, double& out);
// The forms parse_duration_seconds accepts, for messages.
inline constexpr const char* kDurationForms = "a number with unit ms, s, m or h (500ms, 30s, 2m; a bare number is seconds)";

}  // namespace servetwin
