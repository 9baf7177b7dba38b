#pragma once
// A small OpenAI-compatible server for the runner's fault tests (Boost.Beast, synchronous, one
// thread per connection, loopback only). It streams vLLM's wire format (completion or chat
// chunks, the usage chunk with empty choices, `data: [DONE]`) and can misbehave on request:
// close mid-stream, send a malformed SSE line, answer an HTTP error (with Retry-After), stall,
// or split the chunked body at every byte.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace servetwin::testing {

struct FakeOpenAiReply {
  enum Kind { kNormal, kStatus, kCloseMidStream, kMalformedLine, kStall, kStreamError };
  Kind kind = kNormal;
  int status = 200;                  // kStatus
  std::string retry_after;           // kStatus: Retry-After header ("" = none)
  bool usage = true;                 // streams: send the usage chunk (when the client asked for it)
  std::size_t chunk_bytes = 0;       // 0: one HTTP chunk per SSE event; N: the body in N-byte chunks
  int token_gap_us = 0;              // pause before each token after the first (benchmark pacing)
  int prompt_token_offset = 0;       // added to usage.prompt_tokens (a server that prepends a BOS: 1)
  // Replayed as is instead of the generated answer: the SSE body of a stream, the JSON of a
  // non-streaming answer, or the error body of kStatus (e.g. a real server's transcript).
  std::string raw_body;
};

struct FakeOpenAiRequest {
  std::string target;         // e.g. /v1/completions
  std::string authorization;  // the Authorization header
  std::string request_id;     // x-request-id
  nlohmann::json body;        // null for GET
};

class FakeOpenAiServer {
 public:
  using Script = std::function<FakeOpenAiReply(const FakeOpenAiRequest&)>;
  struct TlsFiles {
    std::string cert_pem, key_pem;  // empty: plaintext
  };
  explicit FakeOpenAiServer(Script script, const TlsFiles& tls = {});
  ~FakeOpenAiServer();
  FakeOpenAiServer(const FakeOpenAiServer&) = delete;
  FakeOpenAiServer& operator=(const FakeOpenAiServer&) = delete;
  [[nodiscard]] int port() const { return port_; }
  // Every request received (readiness GETs included), in arrival order.
  std::vector<FakeOpenAiRequest> requests();
  [[nodiscard]] int connections_accepted() const { return accepted_.load(); }
  // x-request-id -> steady_clock ns (since its epoch) when the first token's chunk was written.
  std::vector<std::pair<std::string, std::int64_t>> first_token_writes();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<int> accepted_{0};
};

}  // namespace servetwin::testing
