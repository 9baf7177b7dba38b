#include "live/common/util.hpp"

#include <absl/synchronization/mutex.h>

#include <array>
#include <cctype>
#include <stdexcept>

#include "sim/core/parse_number.hpp"

namespace servetwin::live {

Protocol protocol_from_string(const std::string& s) {
  if (s == "tgis") return Protocol::kTgis;
  if (s == "caikit") return Protocol::kCaikit;
  if (s == "openai-completions") return Protocol::kOpenaiCompletions;
  if (s == "openai-chat") return Protocol::kOpenaiChat;
  throw std::invalid_argument("unknown protocol '" + s + "' (allowed: tgis, caikit, openai-completions, openai-chat)");
}

const char* to_string(Protocol p) {
  switch (p) {
    case Protocol::kTgis: return "tgis";
    case Protocol::kCaikit: return "caikit";
    case Protocol::kOpenaiCompletions: return "openai-completions";
    case Protocol::kOpenaiChat: return "openai-chat";
  }
  return "unknown";
}

std::int64_t approx_token_count(std::string_view text) {
  const auto n = static_cast<std::int64_t>(text.size());
  return n == 0 ? 1 : (n + 3) / 4;
}

const std::string& placeholder_word(std::int64_t index) {
  static const std::array<std::string, 16> kWords{" lorem", " ipsum", " dolor", " sit",   " amet", " consectetur",
                                                  " adipiscing", " elit", " sed",   " do",   " eiusmod",
                                                  " tempor",     " incididunt", " ut", " labore", " et"};
  return kWords[static_cast<std::size_t>(index) % kWords.size()];
}

bool has_duration_unit(const std::string& s) {
  return !s.empty() && std::isalpha(static_cast<unsigned char>(s.back())) != 0;
}

double parse_duration_s(const std::string& s) {
  double v = 0;
  if (!parse_duration_seconds(s, v)) throw std::invalid_argument("bad duration '" + s + "' (allowed: " + kDurationForms + ")");
  if (v < 0) throw std::invalid_argument("negative duration '" + s + "'");
  return v;
}

bool is_loopback_address(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  const std::string host = colon == std::string::npos ? host_port : host_port.substr(0, colon);
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]";
}

void disable_abseil_deadlock_detection() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

}  // namespace servetwin::live
