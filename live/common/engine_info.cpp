#include "live/common/engine_info.hpp"

#include "live/common/http_get.hpp"

namespace servetwin::live {

nlohmann::json query_engine_info(const std::string& host, const std::string& port, const std::string& declared) {
  nlohmann::json info = nlohmann::json::object();
  std::string sources;
  if (!declared.empty()) {
    const std::size_t space = declared.find(' ');
    info["name"] = declared.substr(0, space);
    if (space != std::string::npos) info["version"] = declared.substr(space + 1);
    sources = "declared (--engine-name)";
  }
  if (host.empty() || port.empty()) {
    info["source"] = sources;
    return info;
  }
  const HttpGetResult v = http_get(host, port, "/version", 5);
  if (v.status == 200) {
    const auto j = nlohmann::json::parse(v.body, nullptr, false);
    if (j.is_object() && j.contains("version") && j["version"].is_string()) {
      info["version"] = j["version"];
      sources += std::string(sources.empty() ? "" : ", ") + "GET /version";
    }
  }
  const HttpGetResult m = http_get(host, port, "/v1/models", 5);
  if (m.status == 200) {
    const auto j = nlohmann::json::parse(m.body, nullptr, false);
    if (j.is_object() && j.contains("data") && j["data"].is_array() && !j["data"].empty() && j["data"][0].is_object()) {
      const auto& first = j["data"][0];
      if (first.contains("id")) info["model"] = first["id"];
      if (first.contains("owned_by") && first["owned_by"].is_string() && !info.contains("name"))
        info["name"] = first["owned_by"];
      if (first.contains("max_model_len")) info["max_model_len"] = first["max_model_len"];
      sources += std::string(sources.empty() ? "" : ", ") + "GET /v1/models";
    }
  }
  info["source"] = sources.empty() ? "none (the server answered neither /version nor /v1/models)" : sources;
  return info;
}

}  // namespace servetwin::live
