#include "live/load/openai_tokenize.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "live/common/http_get.hpp"

namespace servetwin::live {

std::string openai_tokenize_body(const std::string& model, bool chat, const std::string& text) {
  nlohmann::ordered_json j;
  if (!model.empty()) j["model"] = model;
  if (chat) j["messages"] = nlohmann::ordered_json::array({{{"role", "user"}, {"content", text}}});
  else j["prompt"] = text;
  return j.dump();
}

std::string parse_openai_tokenize(const std::string& body, std::int64_t& count) {
  const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("count") || !j["count"].is_number_integer()) {
    return "the answer has no integer `count`: " + body.substr(0, 200);
  }
  count = j["count"].get<std::int64_t>();
  return {};
}

ServerTokenCounts openai_tokenize(const HttpTarget& target, const std::string& api_key, const std::string& model,
                                  bool chat, const std::vector<std::string>& texts, double timeout_s) {
  ServerTokenCounts out{"POST /tokenize", {}, {}};
  if (target.tls) {
    out.error = "not asked over https (the side requests speak plain HTTP)";
    return out;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (!api_key.empty()) headers.emplace_back("Authorization", "Bearer " + api_key);
  for (const auto& text : texts) {
    const HttpGetResult r =
        http_post_json(target.host, target.port, "/tokenize", openai_tokenize_body(model, chat, text), headers, timeout_s);
    if (r.status == 0) {
      out.error = "no answer: " + r.error;
    } else if (r.status != 200) {
      out.error = fmt::format("HTTP {}: {}", r.status, openai_error_message(r.body));
    } else {
      std::int64_t n = 0;
      out.error = parse_openai_tokenize(r.body, n);
      out.counts.push_back(n);
    }
    if (!out.error.empty()) {
      out.counts.clear();
      return out;
    }
  }
  return out;
}

}  // namespace servetwin::live
