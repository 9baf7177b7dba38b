#pragma once
// The OpenAI-compatible server's own token counts: vLLM's `POST /tokenize` (vllm/entrypoints/openai/
// protocol.py, TokenizeCompletionRequest {model, prompt} and TokenizeChatRequest {model, messages},
// answered by TokenizeResponse {count, max_model_len, tokens}); the twin serves it too. The count
// includes the tokens the server adds (BOS; for chat, the template with the generation prompt).
#include <cstdint>
#include <string>
#include <vector>

#include "live/load/openai_wire.hpp"
#include "live/load/transport.hpp"

namespace servetwin::live {

// The /tokenize request body for `text`, shaped as the protocol's prompts are sent.
std::string openai_tokenize_body(const std::string& model, bool chat, const std::string& text);
// The count of a /tokenize answer; "" or what is wrong with the body.
std::string parse_openai_tokenize(const std::string& body, std::int64_t& count);

// One POST /tokenize per text on plain http:// targets (an https:// target is not asked). Stops at
// the first failure: an HTTP status other than 200 (404 when the server has no such route) or a body
// without a count. Never throws.
ServerTokenCounts openai_tokenize(const HttpTarget& target, const std::string& api_key, const std::string& model,
                                  bool chat, const std::vector<std::string>& texts, double timeout_s);

}  // namespace servetwin::live
