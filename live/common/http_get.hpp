#pragma once
// A small blocking HTTP/1.1 GET over plain TCP, for the side requests a run makes to a server
// (Prometheus /metrics, vLLM's /version and /v1/models): not on any request's timing path.
#include <string>

namespace servetwin::live {

struct HttpGetResult {
  int status = 0;        // HTTP status; 0 = no answer (connect/read failed, timeout)
  std::string body;
  std::string error;     // why there is no answer
};

// GET http://host:port{path} with a whole-exchange deadline. Never throws.
HttpGetResult http_get(const std::string& host, const std::string& port, const std::string& path, double timeout_s);

}  // namespace servetwin::live
