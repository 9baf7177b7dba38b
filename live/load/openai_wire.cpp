#include "live/load/openai_wire.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace servetwin::live {

HttpTarget parse_http_target(const std::string& url) {
  HttpTarget t;
  std::string_view rest = url;
  if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
    t.tls = true;
  } else {
    throw std::invalid_argument("--target '" + url + "': the OpenAI protocols need http://HOST:PORT or https://HOST:PORT");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty() || rest.find('/') != std::string_view::npos) {
    throw std::invalid_argument("--target '" + url + "': expected http(s)://HOST[:PORT] without a path");
  }
  const auto colon = rest.rfind(':');
  const bool bracketed_v6 = rest.front() == '[' && rest.back() == ']';
  if (colon == std::string_view::npos || bracketed_v6) {
    t.host = std::string(rest);
    t.port = t.tls ? "443" : "80";
  } else {
    t.host = std::string(rest.substr(0, colon));
    t.port = std::string(rest.substr(colon + 1));
    if (t.port.empty() || t.port.find_first_not_of("0123456789") != std::string::npos || t.host.empty()) {
      throw std::invalid_argument("--target '" + url + "': bad HOST:PORT");
    }
  }
  if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']') t.host = t.host.substr(1, t.host.size() - 2);
  return t;
}

const char* openai_path(bool chat) { return chat ? "/v1/chat/completions" : "/v1/completions"; }

std::string openai_request_body(const OpenAiRequestOptions& o, const PromptSample& e) {
  nlohmann::ordered_json j;
  if (!o.model.empty()) j["model"] = o.model;
  if (o.chat) {
    j["messages"] = nlohmann::ordered_json::array({{{"role", "user"}, {"content", e.text}}});
    j["max_completion_tokens"] = e.max_new_tokens;
  } else {
    j["prompt"] = e.text;
    j["max_tokens"] = e.max_new_tokens;
  }
  if (e.min_new_tokens > 0) j["min_tokens"] = e.min_new_tokens;
  if (o.ignore_eos) j["ignore_eos"] = true;
  j["temperature"] = o.temperature;
  j["stream"] = o.stream;
  if (o.stream) j["stream_options"] = {{"include_usage", true}};
  return j.dump();
}

namespace {

std::optional<std::int64_t> int_field(const nlohmann::json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw std::invalid_argument(std::string("usage.") + key + " is not an integer");
  return it->get<std::int64_t>();
}

std::string string_field(const nlohmann::json& obj, const char* key, const char* where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string()) throw std::invalid_argument(std::string(where) + key + " is not a string");
  return it->get<std::string>();
}

}  // namespace

std::string parse_openai_piece(std::string_view json, bool chat, bool stream, OpenAiPiece& out) {
  if (parse_openai_piece_fast(json, chat, stream, out)) return {};
  return parse_openai_piece_full(json, chat, stream, out);
}

std::string parse_openai_piece_full(std::string_view json, bool chat, bool stream, OpenAiPiece& out) {
  out = OpenAiPiece{};
  const auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) return "not JSON: '" + std::string(json.substr(0, 120)) + "'";
  if (!j.is_object()) return "not a JSON object";
  try {
    if (j.contains("error")) {
      out.error = openai_error_message(json);
      return {};
    }
    const auto choices = j.find("choices");
    if (choices != j.end() && !choices->is_null()) {
      if (!choices->is_array()) return "choices is not a list";
      if (!choices->empty()) {
        const auto& c = (*choices)[0];
        if (!c.is_object()) return "choices[0] is not an object";
        out.has_choice = true;
        out.finish_reason = string_field(c, "finish_reason", "choices[0].");
        if (!chat) {
          out.text = string_field(c, "text", "choices[0].");
        } else {
          const char* part = stream ? "delta" : "message";
          const auto d = c.find(part);
          if (d != c.end() && !d->is_null()) {
            if (!d->is_object()) return std::string("choices[0].") + part + " is not an object";
            out.text = string_field(*d, "content", "choices[0].delta.");
          }
        }
      }
    }
    const auto usage = j.find("usage");
    if (usage != j.end() && !usage->is_null()) {
      if (!usage->is_object()) return "usage is not an object";
      out.prompt_tokens = int_field(*usage, "prompt_tokens");
      out.completion_tokens = int_field(*usage, "completion_tokens");
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  return {};
}

std::string openai_error_message(std::string_view body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.is_object()) {
    const auto e = j.find("error");
    if (e != j.end()) {
      if (e->is_object() && e->contains("message") && (*e)["message"].is_string()) return (*e)["message"];
      if (e->is_string()) return *e;
    }
    for (const char* k : {"message", "detail"}) {
      if (j.contains(k) && j[k].is_string()) return j[k];
    }
  }
  return std::string(body.substr(0, 200));
}

double retry_after_seconds(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  // More than 9 digits (over 31 years) is not a delay anyone means; the caller bounds it anyway.
  if (value.empty() || value.size() > 9) return -1;
  double seconds = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') return -1;
    seconds = seconds * 10 + (c - '0');
  }
  return seconds;
}

}  // namespace servetwin::live
