#pragma once
// The OpenAI-compatible HTTP API as vLLM serves it (../shared/reference/loadtesters.md, "SSE"):
// request bodies, target URLs, and the parsing of stream chunks, whole responses and error bodies.
// Pure functions (no I/O), so the wire format is unit-tested apart from the HTTP client.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sim/workload/dataset.hpp"

namespace servetwin::live {

// http(s)://host:port[/] (no path; the default port is 80 / 443).
struct HttpTarget {
  bool tls = false;
  std::string host;
  std::string port;
};
// Throws std::invalid_argument naming the URL and the expected form.
HttpTarget parse_http_target(const std::string& url);

struct OpenAiRequestOptions {
  bool chat = false;  // /v1/chat/completions (messages) instead of /v1/completions (prompt)
  bool stream = true;
  std::string model;
  double temperature = 0;
  bool ignore_eos = true;  // vLLM extension
};
// "/v1/completions" or "/v1/chat/completions".
const char* openai_path(bool chat);
// The JSON body for one dataset entry: max_tokens (chat: max_completion_tokens) = max_new_tokens,
// min_tokens (vLLM extension) when min_new_tokens > 0, ignore_eos when set, temperature, and when
// streaming `stream: true, stream_options: {include_usage: true}`.
std::string openai_request_body(const OpenAiRequestOptions& o, const PromptSample& e);

// What one parsed piece of an answer says: a stream chunk (one SSE event's JSON) or a whole
// non-streaming response.
struct OpenAiPiece {
  bool has_choice = false;      // choices[0] present
  std::string text;             // completions: choices[0].text; chat: delta.content (stream) / message.content
  std::string finish_reason;    // "" while null
  std::optional<std::int64_t> prompt_tokens, completion_tokens;  // usage, when present and not null
  std::string error;            // an {"error": {...}} body's message (or the body's first 200 bytes)
};
// Parses one stream chunk or a whole response. Returns "" or a description of what is malformed
// (not JSON, not an object, choices not a list, a wrong type).
std::string parse_openai_piece(std::string_view json, bool chat, bool stream, OpenAiPiece& out);
// The two halves of parse_openai_piece: a one-pass fast path that builds no JSON tree and declines
// (false) anything but a well-formed piece with the expected types (openai_piece_sax.cpp), and the
// full parser, which parse_openai_piece falls back on (tests compare the two).
bool parse_openai_piece_fast(std::string_view json, bool chat, bool stream, OpenAiPiece& out);
std::string parse_openai_piece_full(std::string_view json, bool chat, bool stream, OpenAiPiece& out);
// The message of an error body ({"error": {"message": ...}}, vLLM's {"message": ...} or
// {"detail": ...}), else the body's first 200 bytes.
std::string openai_error_message(std::string_view body);

// A Retry-After header's delay-seconds form (RFC 9110 10.2.3: digits only) in seconds; -1 for
// anything else (an HTTP-date, garbage): the client then uses its own exponential backoff.
double retry_after_seconds(std::string_view value);

}  // namespace servetwin::live
