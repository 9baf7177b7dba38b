#pragma once
// HTTP handlers of the twin: the OpenAI API front end, and the /metrics + /health side port of
// the gRPC front ends (both serve the same vLLM-named Prometheus metrics).
#include "live/twin/http_server.hpp"
#include "live/twin/twin_engine.hpp"

namespace servetwin::live {

HttpHandler make_openai_handler(TwinEngine& engine);
HttpHandler make_metrics_handler(TwinEngine& engine);
HttpReply metrics_reply(TwinEngine& engine);
// POST /tokenize (tokenize_adapter.cpp); throws TwinStatus on a bad request or another model.
HttpReply tokenize_reply(const TwinEngine& engine, const std::string& body);

}  // namespace servetwin::live
