#pragma once
// Small helpers shared by the load runner and the twin server.
#include <cstdint>
#include <string>
#include <string_view>

namespace servetwin::live {

// The twin serves tgis and caikit; the load runner also speaks the OpenAI HTTP API (completions, chat).
enum class Protocol { kTgis, kCaikit, kOpenaiCompletions, kOpenaiChat };
Protocol protocol_from_string(const std::string& s);  // throws std::invalid_argument naming allowed values
const char* to_string(Protocol p);

// Approximate token count of a text: one token per 4 bytes of UTF-8, rounded up, at least 1.
// (A real tokenizer is not available offline; 4 bytes/token is the usual English rule of thumb.)
// The twin uses it for input_token_count and Tokenize, so client and twin agree by construction.
std::int64_t approx_token_count(std::string_view text);

// The placeholder word the twin streams for generated token `index` (one word per token).
const std::string& placeholder_word(std::int64_t index);

// Parses a duration: a number with unit ms|s|m|h ("500ms", "30s", "2m"); a bare number = seconds.
// Returns seconds; throws std::invalid_argument on anything else or a negative value.
double parse_duration_s(const std::string& s);
// True when `s` carries an explicit time unit (so "--warmup 20" is a count and "--warmup 20s" a time).
bool has_duration_unit(const std::string& s);

// A host:port that must be loopback for the twin's listener (the project never binds elsewhere).
bool is_loopback_address(const std::string& host_port);

// Turns off abseil's mutex deadlock detection for this process (idempotent). Debian builds abseil
// without NDEBUG, so every absl::Mutex lock inside gRPC also maintains a global lock-order graph, a
// debugging aid: perf put it at ~5% of the twin's CPU per stream message (GraphCycles, the
// detector's own locks). The runner and the twin call this before they create gRPC objects.
void disable_abseil_deadlock_detection();

}  // namespace servetwin::live
