// The twin's `POST /tokenize`, as vLLM's OpenAI server answers it (vllm/entrypoints/openai/protocol.py
// 0.11.2: TokenizeCompletionRequest {model, prompt, add_special_tokens, return_token_strs} or
// TokenizeChatRequest {model, messages, ...} -> TokenizeResponse {count, max_model_len, tokens,
// token_strs}), so that a load runner asks the twin and a real server the same way. The twin has no
// vocabulary: its token is 4 bytes of text (approx_token_count, what it charges a prompt), each id
// is a hash of those bytes, and it adds no special tokens.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "live/common/util.hpp"
#include "live/twin/openai_adapter.hpp"

namespace servetwin::live {
namespace {

constexpr std::uint32_t kPseudoVocab = 32000;  // ids stay in a Llama-sized range

// FNV-1a of one 4-byte piece, folded into the pseudo-vocabulary.
std::int64_t piece_id(std::string_view piece) {
  std::uint32_t h = 2166136261U;
  for (const char c : piece) h = (h ^ static_cast<std::uint8_t>(c)) * 16777619U;
  return h % kPseudoVocab;
}

std::string text_of(const nlohmann::json& body) {
  if (body.contains("prompt")) {
    if (!body["prompt"].is_string()) throw TwinStatus{TwinCode::kInvalidArgument, "prompt must be a string"};
    return body["prompt"].get<std::string>();
  }
  if (!body.contains("messages") || !body["messages"].is_array()) {
    throw TwinStatus{TwinCode::kInvalidArgument, "give prompt (a string) or messages (a list)"};
  }
  std::string text;  // as the twin's chat completions count a prompt: the contents, concatenated
  for (const auto& m : body["messages"]) {
    if (m.is_object() && m.contains("content") && m["content"].is_string()) text += m["content"].get<std::string>();
  }
  return text;
}

}  // namespace

HttpReply tokenize_reply(const TwinEngine& engine, const std::string& body_text) {
  const auto body = nlohmann::json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) throw TwinStatus{TwinCode::kInvalidArgument, "the request body must be a JSON object"};
  const std::string& served = engine.options().model_name;
  const auto& m = body.contains("model") ? body["model"] : nlohmann::json();
  if (!m.is_null() && (!m.is_string() || m.get<std::string>() != served)) {
    throw TwinStatus{TwinCode::kNotFound,
                     fmt::format("The model `{}` does not exist.", m.is_string() ? m.get<std::string>() : m.dump())};
  }
  const std::string text = text_of(body);
  const std::int64_t count = approx_token_count(text);
  nlohmann::ordered_json tokens = nlohmann::ordered_json::array(), strs = nlohmann::ordered_json::array();
  for (std::size_t off = 0; off < text.size(); off += 4) {
    tokens.push_back(piece_id(std::string_view(text).substr(off, 4)));
    strs.push_back(text.substr(off, 4));
  }
  if (text.empty()) tokens.push_back(0);  // the twin charges an empty prompt one token
  nlohmann::ordered_json out{{"count", count}, {"max_model_len", engine.limits().max_sequence_length}, {"tokens", tokens}};
  const bool want_strs = body.contains("return_token_strs") && body["return_token_strs"].is_boolean() &&
                         body["return_token_strs"].get<bool>();
  out["token_strs"] = want_strs ? strs : nlohmann::ordered_json();
  HttpReply r;
  r.body = out.dump();
  return r;
}

}  // namespace servetwin::live
