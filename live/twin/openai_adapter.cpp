// The twin's OpenAI adapter: /v1/completions and /v1/chat/completions (streaming SSE and not),
// /v1/models, /health and /metrics over HTTP/1.1, in front of the protocol-neutral TwinEngine.
// Wire format as vLLM's OpenAI server writes it (field names and order, SSE framing, the usage
// chunk, `data: [DONE]`, error bodies); docs/live.md lists where the twin differs.
#include "live/twin/openai_adapter.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "live/common/util.hpp"

namespace servetwin::live {
namespace {

using ojson = nlohmann::ordered_json;

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

// placeholder_word(i) as a JSON string, quoted once per word and thread (on_token's hot path).
const std::string& quoted_placeholder_word(std::int64_t i) {
  thread_local std::unordered_map<const std::string*, std::string> quoted;
  const std::string& word = placeholder_word(i);
  auto it = quoted.find(&word);
  if (it == quoted.end()) it = quoted.emplace(&word, json_string(word)).first;
  return it->second;
}

// vLLM's error body: {"error": {"message", "type", "param", "code"}} with the HTTP status as code.
HttpReply error_reply(unsigned status, const std::string& type, const std::string& message) {
  HttpReply r;
  r.status = status;
  ojson e;
  e["message"] = message;
  e["type"] = type;
  e["param"] = nullptr;
  e["code"] = status;
  r.body = ojson{{"error", e}}.dump();
  return r;
}

HttpReply error_reply(const TwinStatus& s) {
  switch (s.code) {
    case TwinCode::kInvalidArgument: return error_reply(400, "BadRequestError", s.message);
    case TwinCode::kNotFound: return error_reply(404, "NotFoundError", s.message);
    case TwinCode::kResourceExhausted: {
      // The modelled engine refuses work beyond its admission limit (TGIS/TGI presets); vLLM itself
      // queues instead. 429 + Retry-After is what HTTP clients back off on.
      HttpReply r = error_reply(429, "TooManyRequestsError", s.message);
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    case TwinCode::kUnavailable:
    case TwinCode::kCancelled: return error_reply(503, "ServiceUnavailableError", s.message);
    default: return error_reply(500, "InternalServerError", s.message);
  }
}

enum class Api { kCompletions, kChat };

// What the adapter reads from a completions / chat request body.
struct OpenAiParams {
  Api api = Api::kCompletions;
  std::string text;
  std::int64_t prompt_token_ids = -1;  // > 0 when the prompt was a list of token ids
  std::optional<std::int64_t> max_tokens;
  std::int64_t min_tokens = 0;
  bool ignore_eos = false;
  bool stream = false;
  bool include_usage = false;
  bool continuous_usage = false;
};

// Throws TwinStatus (400) on anything the twin cannot serve.
std::int64_t int_field(const nlohmann::json& body, const char* key, std::int64_t lo) {
  const auto& v = body[key];
  if (!v.is_number_integer() || v.get<std::int64_t>() < lo) {
    throw TwinStatus{TwinCode::kInvalidArgument, fmt::format("{} must be an integer >= {}", key, lo)};
  }
  return v.get<std::int64_t>();
}

bool bool_field(const nlohmann::json& obj, const char* key) {
  if (!obj.contains(key) || obj[key].is_null()) return false;
  if (!obj[key].is_boolean()) throw TwinStatus{TwinCode::kInvalidArgument, std::string(key) + " must be a boolean"};
  return obj[key].get<bool>();
}

void read_prompt(const nlohmann::json& body, OpenAiParams& p) {
  const auto& prompt = body.contains("prompt") ? body["prompt"] : nlohmann::json();
  if (prompt.is_string()) {
    p.text = prompt.get<std::string>();
  } else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) {
    p.text = prompt[0].get<std::string>();
  } else if (prompt.is_array() && !prompt.empty() && prompt[0].is_number_integer()) {
    p.text = prompt.dump();  // the ids stand in for the text (output-length hash)
    p.prompt_token_ids = static_cast<std::int64_t>(prompt.size());
  } else {
    throw TwinStatus{TwinCode::kInvalidArgument,
                     "prompt must be a string, a list of one string or a list of token ids (the twin serves one "
                     "prompt per request)"};
  }
}

void read_messages(const nlohmann::json& body, OpenAiParams& p) {
  if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty()) {
    throw TwinStatus{TwinCode::kInvalidArgument, "messages must be a non-empty list"};
  }
  for (const auto& m : body["messages"]) {
    const auto& c = m.is_object() && m.contains("content") ? m["content"] : nlohmann::json();
    if (c.is_string()) {
      p.text += c.get<std::string>();
    } else if (c.is_array()) {
      for (const auto& part : c) {
        if (part.is_object() && part.value("type", "") == "text") p.text += part.value("text", "");
      }
    } else if (!c.is_null()) {
      throw TwinStatus{TwinCode::kInvalidArgument, "message content must be a string or a list of parts"};
    }
  }
}

OpenAiParams parse_request(Api api, const std::string& body_text, const std::string& served) {
  const auto body = nlohmann::json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) throw TwinStatus{TwinCode::kInvalidArgument, "the request body must be a JSON object"};
  if (body.contains("model") && !body["model"].is_null()) {
    if (!body["model"].is_string() || body["model"].get<std::string>() != served) {
      const auto& m = body["model"];
      throw TwinStatus{TwinCode::kNotFound,
                       fmt::format("The model `{}` does not exist.", m.is_string() ? m.get<std::string>() : m.dump())};
    }
  }
  OpenAiParams p;
  p.api = api;
  if (api == Api::kCompletions) {
    read_prompt(body, p);
  } else {
    read_messages(body, p);
  }
  const char* max_key = api == Api::kChat && body.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  if (body.contains(max_key) && !body[max_key].is_null()) p.max_tokens = int_field(body, max_key, 1);
  if (body.contains("min_tokens") && !body["min_tokens"].is_null()) p.min_tokens = int_field(body, "min_tokens", 0);
  if (body.contains("n") && !body["n"].is_null() && int_field(body, "n", 1) != 1) {
    throw TwinStatus{TwinCode::kInvalidArgument, "n must be 1 (the twin generates one choice)"};
  }
  p.ignore_eos = bool_field(body, "ignore_eos");
  p.stream = bool_field(body, "stream");
  if (body.contains("stream_options") && !body["stream_options"].is_null()) {
    if (!p.stream) throw TwinStatus{TwinCode::kInvalidArgument, "Stream options can only be defined when `stream=True`."};
    if (!body["stream_options"].is_object()) throw TwinStatus{TwinCode::kInvalidArgument, "stream_options must be an object"};
    p.include_usage = bool_field(body["stream_options"], "include_usage");
    p.continuous_usage = bool_field(body["stream_options"], "continuous_usage_stats");
  }
  return p;
}

const char* finish_reason(TwinStop s) { return s == TwinStop::kEosToken ? "stop" : "length"; }

std::string usage_json(std::int64_t prompt, std::int64_t completion) {
  return fmt::format(R"({{"prompt_tokens":{},"total_tokens":{},"completion_tokens":{}}})", prompt, prompt + completion,
                     completion);
}

// One request in the engine, answering over its HTTP exchange.
class OpenAiRequest final : public TwinRequest {
 public:
  OpenAiRequest(TwinEngine& engine, std::shared_ptr<HttpExchange> ex, OpenAiParams p, std::string id,
                std::int64_t created, const std::string& model)
      : engine_(engine), ex_(std::move(ex)), p_(std::move(p)) {
    const bool chat = p_.api == Api::kChat;
    head_ = fmt::format(R"(data: {{"id":"{}","object":"{}","created":{},"model":{},"choices":[)", id,
                        chat ? "chat.completion.chunk" : "text_completion", created, json_string(model));
    id_ = std::move(id);
    created_ = created;
    model_ = model;
  }

  void on_token(std::int64_t i) override {
    if (!p_.stream) {
      text_ += placeholder_word(i);
      return;
    }
    // Held until the engine's pass ends (flush) or the request ends in it (on_done): one write
    // per pass, and the last token shares its write with the end.
    std::string& out = held_;  // reused: no allocation per token once it has grown
    if (i == 0) begin(out);
    const bool last = i + 1 == output_tokens;
    append_chunk(out, quoted_placeholder_word(i), last ? finish_reason(stop) : nullptr, i + 1);
    if (i == 0) engine_.log_first_token_handoff(*this);
    engine_.count_message();
  }

  void flush() override {
    if (held_.empty()) return;
    ex_->stream_send(held_);
    held_.clear();
  }

  void on_done(std::int64_t sent) override {
    const char* reason = sent < output_tokens ? "stop" : finish_reason(stop);
    if (!p_.stream) {
      ex_->reply(whole_response(sent, reason));
      return;
    }
    std::string out;
    out.swap(held_);
    if (sent == 0) begin(out);
    if (sent < output_tokens || sent == 0) append_chunk(out, "\"\"", reason, sent);
    if (p_.include_usage) {
      out += head_;
      out += "]," R"("usage":)" + usage_json(input_tokens, sent) + "}\n\n";
    }
    out += "data: [DONE]\n\n";
    ex_->stream_finish(out);
  }

  void on_fail(const TwinStatus& s) override {
    if (s.code == TwinCode::kCancelled && cancelled_by_client_.load()) return;
    if (!began_) {
      ex_->reply(error_reply(s));
      return;
    }
    // Headers are out: vLLM reports a failure inside the stream, then ends it.
    std::string out;
    out.swap(held_);
    ex_->stream_finish(out + "data: " + error_reply(s).body + "\n\ndata: [DONE]\n\n");
  }

  std::atomic<bool> cancelled_by_client_{false};

 private:
  void begin(std::string& out) {
    began_ = true;
    ex_->stream_begin(200, "text/event-stream; charset=utf-8");
    if (p_.api == Api::kChat) {  // vLLM's first chat chunk carries the role and empty content
      out += head_;
      out += R"({"index":0,"delta":{"role":"assistant","content":"","reasoning_content":null},"logprobs":null,)"
             R"("finish_reason":null}])";
      if (p_.continuous_usage) out += R"(,"usage":)" + usage_json(input_tokens, 0);
      out += R"(,"prompt_token_ids":null})" "\n\n";
    }
  }

  // One SSE event with one choice: `text_json` is an already-quoted JSON string.
  void append_chunk(std::string& out, const std::string& text_json, const char* reason, std::int64_t sent) const {
    // Completions chunks always carry stop_reason; chat chunks only with the finish reason (vLLM
    // dumps completions with every field, chat with the fields set).
    // Appended piece by piece into `out` (reused per token): no temporaries.
    const bool chat = p_.api == Api::kChat;
    auto finish = [&] {
      if (reason) {
        out.append("\"").append(reason).append(chat ? R"(","stop_reason":null,"token_ids":null)" : R"(","stop_reason":null)");
      } else {
        out.append(chat ? "null" : R"(null,"stop_reason":null)");
      }
    };
    out += head_;
    if (chat) {
      out.append(R"({"index":0,"delta":{"content":)").append(text_json);
      out.append(R"(,"reasoning_content":null},"logprobs":null,"finish_reason":)");
      finish();
      out.append("}]");
      if (p_.continuous_usage) out.append(R"(,"usage":)").append(usage_json(input_tokens, sent));
    } else {
      out.append(R"({"index":0,"text":)").append(text_json).append(R"(,"logprobs":null,"finish_reason":)");
      finish();
      out.append(R"(,"prompt_token_ids":null,"token_ids":null}])");
      out.append(R"(,"usage":)");
      if (p_.continuous_usage) out.append(usage_json(input_tokens, sent));
      else out.append("null");
    }
    out += "}\n\n";
  }

  // Field set and order of vLLM 0.11.2's non-streaming responses (completions: tests/engines
  // transcripts; chat: vLLM 0.11.2's ChatCompletionResponse model dumped as its server does).
  [[nodiscard]] HttpReply whole_response(std::int64_t sent, const char* reason) const {
    const bool chat = p_.api == Api::kChat;
    ojson choice;
    choice["index"] = 0;
    if (chat) {
      choice["message"] = ojson{{"role", "assistant"}, {"content", text_},        {"refusal", nullptr},
                                {"annotations", nullptr}, {"audio", nullptr},       {"function_call", nullptr},
                                {"tool_calls", ojson::array()}, {"reasoning", nullptr}, {"reasoning_content", nullptr}};
    } else {
      choice["text"] = text_;
    }
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = reason;
    choice["stop_reason"] = nullptr;
    choice["token_ids"] = nullptr;
    if (!chat) {
      choice["prompt_logprobs"] = nullptr;
      choice["prompt_token_ids"] = nullptr;
    }
    ojson r;
    r["id"] = id_;
    r["object"] = chat ? "chat.completion" : "text_completion";
    r["created"] = created_;
    r["model"] = model_;
    r["choices"] = ojson::array({choice});
    r["service_tier"] = nullptr;
    r["system_fingerprint"] = nullptr;
    r["usage"] = ojson{{"prompt_tokens", input_tokens}, {"total_tokens", input_tokens + sent},
                       {"completion_tokens", sent}, {"prompt_tokens_details", nullptr}};
    if (chat) {
      r["prompt_logprobs"] = nullptr;
      r["prompt_token_ids"] = nullptr;
    }
    r["kv_transfer_params"] = nullptr;
    HttpReply h;
    h.body = r.dump();
    return h;
  }

  TwinEngine& engine_;
  std::shared_ptr<HttpExchange> ex_;
  OpenAiParams p_;
  std::string head_, id_, model_, text_;
  std::string held_;  // SSE events of this pass not written yet (driver thread)
  std::int64_t created_ = 0;
  bool began_ = false;
};

std::int64_t unix_now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The context check vLLM makes before generating (the twin's engine would otherwise cut the
// output at the context and call it TOKEN_LIMIT, as TGIS does). vLLM 0.11.2 words both cases
// alike, with the context left for the prompt (max_model_len - max_tokens) as the "maximum".
std::optional<TwinStatus> check_context(std::int64_t input, std::int64_t max_tokens, std::int64_t max_len) {
  if (max_len <= 0 || input + max_tokens <= max_len) return std::nullopt;
  return TwinStatus{TwinCode::kInvalidArgument,
                    fmt::format("This model's maximum context length is {} tokens. However, your request has {} "
                                "input tokens. Please reduce the length of the input messages.",
                                max_len - max_tokens, input)};
}

class OpenAiFrontEnd {
 public:
  explicit OpenAiFrontEnd(TwinEngine& engine) : engine_(engine) {}

  void generate(Api api, const HttpRequestView& req, const std::shared_ptr<HttpExchange>& ex) {
    const std::string& served = engine_.options().model_name;
    OpenAiParams p;
    try {
      p = parse_request(api, req.body, served);
    } catch (const TwinStatus& s) {
      engine_.count_invalid();
      ex->reply(error_reply(s));
      return;
    }
    const std::uint64_t n = next_.fetch_add(1, std::memory_order_relaxed);
    const std::string id = fmt::format("{}{:032x}", api == Api::kChat ? "chatcmpl-" : "cmpl-", n);
    auto r = std::make_shared<OpenAiRequest>(engine_, ex, p, id, unix_now_s(), served);
    r->x_request_id = req.x_request_id;
    AdmitParams a;
    a.text = p.text;
    a.input_tokens = p.prompt_token_ids;
    const std::int64_t input = p.prompt_token_ids > 0 ? p.prompt_token_ids : approx_token_count(p.text);
    const std::int64_t max_len = engine_.limits().max_sequence_length;
    // vLLM's default max_tokens: whatever the context leaves.
    std::int64_t max_tokens = p.max_tokens ? *p.max_tokens : engine_.options().default_max_new_tokens;
    if (!p.max_tokens && max_len > 0) max_tokens = std::max<std::int64_t>(max_len - input, 0);
    if (auto bad = check_context(input, max_tokens, max_len)) return engine_.refuse(*r, *bad);
    if (p.min_tokens > max_tokens) {
      return engine_.refuse(*r, {TwinCode::kInvalidArgument,
                                 fmt::format("min_tokens must be less than or equal to max_tokens={}, got {}.",
                                             max_tokens, p.min_tokens)});
    }
    a.max_new_tokens = max_tokens;
    a.min_new_tokens = p.ignore_eos ? max_tokens : p.min_tokens;
    const TwinStatus s = engine_.admit(*r, a);
    if (!s.ok()) return engine_.refuse(*r, s);
    std::weak_ptr<OpenAiRequest> weak = r;
    ex->on_disconnect([this, weak] {
      if (auto request = weak.lock()) {
        request->cancelled_by_client_.store(true);
        engine_.cancel(request.get());
      }
    });
    engine_.submit(r);
  }

  void route(const HttpRequestView& req, const std::shared_ptr<HttpExchange>& ex) {
    const std::string path = req.target.substr(0, req.target.find('?'));
    const bool post = req.method == "POST";
    if (path == "/v1/completions" || path == "/v1/chat/completions") {
      if (!post) return ex->reply(not_allowed());
      return generate(path == "/v1/completions" ? Api::kCompletions : Api::kChat, req, ex);
    }
    if (path == "/tokenize") {
      if (!post) return ex->reply(not_allowed());
      try {
        return ex->reply(tokenize_reply(engine_, req.body));
      } catch (const TwinStatus& s) {
        return ex->reply(error_reply(s));
      }
    }
    if (req.method != "GET") return ex->reply(not_allowed());
    if (path == "/v1/models") return ex->reply(models());
    if (path == "/health") return ex->reply(HttpReply{200, "", "", {}});  // vLLM: 200, no body
    if (path == "/metrics") return ex->reply(metrics_reply(engine_));
    ex->reply(HttpReply{404, "application/json", R"({"detail":"Not Found"})", {}});
  }

 private:
  static HttpReply not_allowed() { return HttpReply{405, "application/json", R"({"detail":"Method Not Allowed"})", {}}; }

  HttpReply models() const {
    const std::string& m = engine_.options().model_name;
    ojson card{{"id", m},          {"object", "model"}, {"created", started_s_}, {"owned_by", "vllm"},
               {"root", m},        {"parent", nullptr}, {"max_model_len", engine_.limits().max_sequence_length}};
    HttpReply r;
    r.body = ojson{{"object", "list"}, {"data", ojson::array({card})}}.dump();
    return r;
  }

  TwinEngine& engine_;
  std::atomic<std::uint64_t> next_{1};
  std::int64_t started_s_ = unix_now_s();
};

}  // namespace

HttpReply metrics_reply(TwinEngine& engine) {
  HttpReply r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = engine.metrics_text();
  if (r.body.empty()) return error_reply(503, "ServiceUnavailableError", "the twin is shutting down");
  return r;
}

HttpHandler make_openai_handler(TwinEngine& engine) {
  auto front = std::make_shared<OpenAiFrontEnd>(engine);
  return [front](const HttpRequestView& req, const std::shared_ptr<HttpExchange>& ex) { front->route(req, ex); };
}

HttpHandler make_metrics_handler(TwinEngine& engine) {
  return [&engine](const HttpRequestView& req, const std::shared_ptr<HttpExchange>& ex) {
    const std::string path = req.target.substr(0, req.target.find('?'));
    if (req.method == "GET" && path == "/metrics") return ex->reply(metrics_reply(engine));
    if (req.method == "GET" && path == "/health") return ex->reply(HttpReply{200, "", "", {}});
    ex->reply(HttpReply{404, "application/json", R"({"detail":"Not Found"})", {}});
  };
}

}  // namespace servetwin::live
