#include "sim/core/parse_number.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <system_error>

namespace servetwin {
namespace {

// from_chars rejects a leading '+', which people write ("+4"); strip one (not before a sign).
std::string_view without_plus(std::string_view text) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  return text;
}

template <class T>
bool parse_whole(std::string_view text, T& out) {
  text = without_plus(text);
  if (text.empty()) return false;
  T v{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  out = v;
  return true;
}

}  // namespace

bool parse_finite_double(std::string_view text, double& out) {
  double v = 0;
  if (!parse_whole(text, v) || !std::isfinite(v)) return false;
  out = v;
  return true;
}

bool parse_int64(std::string_view text, std::int64_t& out) { return parse_whole(text, out); }

bool parse_uint64(std::string_view text, std::uint64_t& out) {
  if (!text.empty() && text.front() == '-') return false;
  return parse_whole(text, out);
}

bool parse_duration_seconds(std::string_view text, double& out) {
  struct Unit {
    std::string_view suffix;
    double seconds;
  };
  // "ms" before "s" and "m": the longest suffix that matches.
  static constexpr std::array<Unit, 4> kUnits{{{"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}}};
  double factor = 1;
  for (const Unit& u : kUnits) {
    if (text.size() > u.suffix.size() && text.substr(text.size() - u.suffix.size()) == u.suffix) {
      text.remove_suffix(u.suffix.size());
      factor = u.seconds;
      break;
    }
  }
  double v = 0;
  if (!parse_finite_double(text, v) || !std::isfinite(v * factor)) return false;
  out = v * factor;
  return true;
}

}  // namespace servetwin
