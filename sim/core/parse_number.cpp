#include "sim/core/parse_number.hpp"

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

}  // namespace servetwin
