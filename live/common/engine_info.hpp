#pragma once
// What a server says about itself over HTTP: vLLM's GET /version ({"version": "0.11.2"}) and the
// OpenAI GET /v1/models list (id, owned_by, max_model_len). Recorded in summary.json and probe.json
// as `server_engine`, so every result names the engine that produced it.
#include <nlohmann/json.hpp>
#include <string>

namespace servetwin::live {

// {"name": "vllm" (owned_by) | declared, "version": ..., "model": ..., "max_model_len": ..., "source": ...};
// fields the server does not answer are left out. `declared` (a user's --engine-name, "NAME[ VERSION]")
// fills name/version when the server does not tell. Never throws.
nlohmann::json query_engine_info(const std::string& host, const std::string& port, const std::string& declared);

}  // namespace servetwin::live
