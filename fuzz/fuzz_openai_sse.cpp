// libFuzzer target: the OpenAI-compatible HTTP answer parsing of the live runner (live/load/sse.* and
// live/load/openai_wire.*, pure code compiled in without gRPC). Input: one flags byte, then the bytes
// of a response body. The body is split into server-sent events twice, in one feed and in feeds of a
// size the flags byte picks; both must give the same events and the same error (a split is how TCP
// hands the body over, so it must not change the answer). Each event's data is parsed as an OpenAI
// stream chunk, the whole body as a non-streaming response and as an error body, and its first line as
// a Retry-After value and as a --target URL.
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_input.hpp"
#include "live/load/openai_wire.hpp"
#include "live/load/sse.hpp"

namespace {

struct Split {
  std::vector<std::string> events;
  std::string error;
  bool pending = false;
};

Split split_events(std::string_view body, std::size_t feed_bytes) {
  servetwin::live::SseSplitter splitter;
  Split out;
  for (std::size_t at = 0; at < body.size() && out.error.empty(); at += feed_bytes) {
    out.error = splitter.feed(body.substr(at, feed_bytes), out.events);
  }
  out.pending = splitter.pending();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool chat = (data[0] & 1U) != 0;
  const std::size_t feed_bytes = 1 + (data[0] >> 1U);
  const std::string body = servetwin::fuzz::as_text(data + 1, size - 1);

  const Split whole = split_events(body, body.size() + 1);
  const Split pieces = split_events(body, feed_bytes);
  // A failed splitter stops at the first malformed line, so only the events before it must agree.
  if (whole.error != pieces.error || whole.events != pieces.events ||
      (whole.error.empty() && whole.pending != pieces.pending)) {
    std::abort();  // the answer depends on how the body was split
  }
  servetwin::live::OpenAiPiece piece;
  for (const auto& event : whole.events) {
    if (event == "[DONE]") continue;
    (void)servetwin::live::parse_openai_piece(event, chat, /*stream=*/true, piece);
  }
  (void)servetwin::live::parse_openai_piece(body, chat, /*stream=*/false, piece);
  (void)servetwin::live::openai_error_message(body);
  const std::string first_line = body.substr(0, body.find('\n'));
  (void)servetwin::live::retry_after_seconds(first_line);
  try {
    (void)servetwin::live::parse_http_target(first_line);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
