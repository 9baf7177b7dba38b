#pragma once
// A small blocking HTTP/1.1 exchange over plain TCP, for the side requests a run makes to a server
// (Prometheus /metrics, vLLM's /version and /v1/models, POST /tokenize): not on any request's timing path.
#include <string>
#include <utility>
#include <vector>

namespace servetwin::live {

struct HttpGetResult {
  int status = 0;        // HTTP status; 0 = no answer (connect/read failed, timeout)
  std::string body;
  std::string error;     // why there is no answer
};

// GET http://host:port{path} with a whole-exchange deadline. Never throws.
HttpGetResult http_get(const std::string& host, const std::string& port, const std::string& path, double timeout_s);

// POST http://host:port{path} with a JSON body and extra headers (e.g. Authorization). Never throws.
HttpGetResult http_post_json(const std::string& host, const std::string& port, const std::string& path,
                             const std::string& json_body,
                             const std::vector<std::pair<std::string, std::string>>& headers, double timeout_s);

}  // namespace servetwin::live
