// The twin's OpenAI front end over real HTTP (a Boost.Beast client): vLLM's wire format for
// completions and chat (streaming and not), the usage chunk and [DONE], /v1/models, /health,
// error bodies, overload, client disconnect, keep-alive; Prometheus /metrics on the OpenAI port
// and on the gRPC twin's side port; a port already in use; the streaming bytes on the wire.
#pragma GCC diagnostic ignored "-Wnull-dereference"  // Boost 1.74 asio false positive at -O3 (see http_server.cpp)
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "live/twin/http_chunk_send.hpp"
#include "proto/fmaas_generation.grpc.pb.h"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;

struct Reply {
  unsigned status = 0;
  std::string body;
  std::string content_type, retry_after, transfer_encoding;
};

// One HTTP/1.1 connection (keep-alive: several calls on it).
class Client {
 public:
  explicit Client(int port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  }
  Reply call(http::verb method, const std::string& target, const std::string& body = "") {
    http::request<http::string_body> req(method, target, 11);
    req.set(http::field::host, "127.0.0.1");
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(socket_, req);
    http::response_parser<http::string_body> p;
    p.body_limit(1U << 26U);
    http::read(socket_, buf_, p);
    const auto& res = p.get();
    return Reply{res.result_int(), res.body(), std::string(res[http::field::content_type]),
                 std::string(res[http::field::retry_after]), std::string(res[http::field::transfer_encoding])};
  }
  tcp::socket& socket() { return socket_; }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buf_;
};

Reply post(int port, const std::string& target, const json& body) {
  return Client(port).call(http::verb::post, target, body.dump());
}
Reply get(int port, const std::string& target) { return Client(port).call(http::verb::get, target); }

// The `data: ` payloads of an SSE body, in order.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < body.size()) {
    const auto end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event in: " << body.substr(pos);
    if (end == std::string::npos) break;
    const std::string ev = body.substr(pos, end - pos);
    EXPECT_EQ(ev.rfind("data: ", 0), 0U) << ev;
    out.push_back(ev.substr(6));
    pos = end + 2;
  }
  return out;
}

// Prometheus text exposition: `name{labels} value` lines after # HELP/# TYPE; returns
// "name{labels}" -> value, and checks every line parses.
std::map<std::string, double> parse_prometheus(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  std::string type_of;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream t(line.substr(7));
      std::string name, type;
      t >> name >> type;
      EXPECT_TRUE(type == "gauge" || type == "counter" || type == "histogram") << line;
      continue;
    }
    const auto sp = line.rfind(' ');
    EXPECT_NE(sp, std::string::npos) << line;
    const std::string key = line.substr(0, sp);
    EXPECT_EQ(key.rfind("vllm:", 0), 0U) << line;
    EXPECT_NE(key.find("model_name=\"m\""), std::string::npos) << line;
    std::size_t used = 0;
    const std::string v = line.substr(sp + 1);
    out[key] = v == "+Inf" ? HUGE_VAL : std::stod(v, &used);
    if (v != "+Inf") {
      EXPECT_EQ(used, v.size()) << line;
    }
  }
  return out;
}

// The sample `name{engine="0",EXTRA,model_name="m"}` (labels in prometheus_client's order).
double value(const std::map<std::string, double>& m, const std::string& name, const std::string& extra = "") {
  const std::string key = name + "{engine=\"0\"" + extra + ",model_name=\"m\"}";
  const auto it = m.find(key);
  EXPECT_NE(it, m.end()) << key;
  return it == m.end() ? -1 : it->second;
}

struct OpenAiTwin {
  explicit OpenAiTwin(FakeEngineParams params = {}) {
    live::TwinOptions o;
    o.front_end = live::TwinFrontEnd::kOpenai;
    o.model_name = "m";
    server = std::make_unique<live::TwinServer>(o, fake_factory(params));
    port = server->start();
  }
  std::unique_ptr<live::TwinServer> server;
  int port = 0;
};

const std::string kPrompt = "0123456789abcdef";  // 16 bytes = 4 tokens (ceil(bytes/4))

TEST(TwinOpenAi, CompletionsStreamExactTokensUsageAndDone) {
  OpenAiTwin t;
  const auto r = post(t.port, "/v1/completions",
                      {{"model", "m"}, {"prompt", kPrompt}, {"max_tokens", 5}, {"ignore_eos", true},
                       {"stream", true}, {"stream_options", {{"include_usage", true}}}});
  ASSERT_EQ(r.status, 200U) << r.body;
  EXPECT_EQ(r.content_type, "text/event-stream; charset=utf-8");
  EXPECT_EQ(r.transfer_encoding, "chunked");
  const auto events = sse_data(r.body);
  ASSERT_EQ(events.size(), 7U) << r.body;  // 5 tokens, usage, [DONE]
  std::string id;
  for (int i = 0; i < 5; ++i) {
    const auto c = json::parse(events[i]);
    if (i == 0) id = c["id"];
    EXPECT_EQ(c["id"], id);
    EXPECT_EQ(c["object"], "text_completion");
    EXPECT_EQ(c["model"], "m");
    EXPECT_TRUE(c["created"].is_number_integer());
    ASSERT_EQ(c["choices"].size(), 1U);
    EXPECT_EQ(c["choices"][0]["index"], 0);
    EXPECT_EQ(c["choices"][0]["text"], live::placeholder_word(i));
    EXPECT_TRUE(c["choices"][0]["logprobs"].is_null());
    if (i < 4) {
      EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null()) << events[i];
    }
  }
  EXPECT_EQ(id.rfind("cmpl-", 0), 0U);
  EXPECT_EQ(json::parse(events[4])["choices"][0]["finish_reason"], "length");
  const auto usage = json::parse(events[5]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["prompt_tokens"], 4);
  EXPECT_EQ(usage["usage"]["completion_tokens"], 5);
  EXPECT_EQ(usage["usage"]["total_tokens"], 9);
  EXPECT_EQ(events[6], "[DONE]");
  EXPECT_EQ(t.server->stats().messages, 5);  // token events handed to the HTTP server
}

TEST(TwinOpenAi, ChatStreamRoleFirstNoUsageWithoutAsking) {
  OpenAiTwin t;
  const json msgs = json::array({{{"role", "user"}, {"content", kPrompt}}});
  const auto r = post(t.port, "/v1/chat/completions",
                      {{"model", "m"}, {"messages", msgs}, {"max_tokens", 3}, {"ignore_eos", true}, {"stream", true}});
  ASSERT_EQ(r.status, 200U) << r.body;
  const auto events = sse_data(r.body);
  ASSERT_EQ(events.size(), 5U) << r.body;  // role, 3 tokens, [DONE]
  const auto first = json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["id"].get<std::string>().rfind("chatcmpl-", 0), 0U);
  EXPECT_EQ(first["choices"][0]["delta"], json({{"role", "assistant"}, {"content", ""}, {"reasoning_content", nullptr}}));
  for (int i = 0; i < 3; ++i) {
    const auto c = json::parse(events[1 + i]);
    EXPECT_EQ(c["choices"][0]["delta"], json({{"content", live::placeholder_word(i)}, {"reasoning_content", nullptr}}));
    EXPECT_FALSE(c.contains("usage"));
  }
  EXPECT_EQ(json::parse(events[3])["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(events[4], "[DONE]");
}

TEST(TwinOpenAi, NonStreamingCountsAndMinTokens) {
  OpenAiTwin t;
  const auto c = post(t.port, "/v1/completions", {{"prompt", kPrompt}, {"max_tokens", 4}, {"ignore_eos", true}});
  ASSERT_EQ(c.status, 200U) << c.body;
  const auto cj = json::parse(c.body);
  EXPECT_EQ(cj["object"], "text_completion");
  EXPECT_EQ(cj["choices"][0]["text"], " lorem ipsum dolor sit");
  EXPECT_EQ(cj["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(cj["usage"]["completion_tokens"], 4);
  EXPECT_EQ(cj["usage"]["prompt_tokens"], 4);
  // min_tokens == max_tokens without ignore_eos: the twin's EOS draw cannot stop it early.
  const json msgs = json::array({{{"role", "user"}, {"content", "hi"}}});
  const auto h = post(t.port, "/v1/chat/completions", {{"messages", msgs}, {"max_tokens", 6}, {"min_tokens", 6}});
  ASSERT_EQ(h.status, 200U) << h.body;
  const auto hj = json::parse(h.body);
  EXPECT_EQ(hj["object"], "chat.completion");
  EXPECT_EQ(hj["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(hj["usage"]["completion_tokens"], 6);
  EXPECT_EQ(hj["usage"]["prompt_tokens"], 1);
  // Without ignore_eos or min_tokens the length is the twin's seeded EOS draw in [1, max_tokens].
  const auto e = post(t.port, "/v1/completions", {{"prompt", kPrompt}, {"max_tokens", 50}});
  const auto ej = json::parse(e.body);
  const std::int64_t n = ej["usage"]["completion_tokens"];
  EXPECT_EQ(n, live::twin_output_tokens(0, kPrompt, 0, 50));
  EXPECT_EQ(ej["choices"][0]["finish_reason"], n == 50 ? "length" : "stop");
}

TEST(TwinOpenAi, ModelsHealthAndErrors) {
  OpenAiTwin t;
  const auto m = get(t.port, "/v1/models");
  ASSERT_EQ(m.status, 200U);
  const auto mj = json::parse(m.body);
  EXPECT_EQ(mj["object"], "list");
  EXPECT_EQ(mj["data"][0]["id"], "m");
  EXPECT_EQ(mj["data"][0]["object"], "model");
  EXPECT_EQ(mj["data"][0]["max_model_len"], 4096);
  EXPECT_EQ(get(t.port, "/health").status, 200U);
  const auto expect_error = [&](const Reply& r, unsigned status, const std::string& type) {
    EXPECT_EQ(r.status, status) << r.body;
    const auto j = json::parse(r.body);
    EXPECT_EQ(j["error"]["type"], type) << r.body;
    EXPECT_EQ(j["error"]["code"], status);
    EXPECT_FALSE(j["error"]["message"].get<std::string>().empty());
  };
  expect_error(post(t.port, "/v1/completions", {{"model", "other"}, {"prompt", "x"}}), 404, "NotFoundError");
  expect_error(post(t.port, "/v1/completions", {{"prompt", "x"}, {"stream_options", {{"include_usage", true}}}}), 400,
               "BadRequestError");
  expect_error(post(t.port, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 0}}), 400, "BadRequestError");
  expect_error(post(t.port, "/v1/completions", {{"prompt", "x"}, {"max_tokens", 5000}}), 400, "BadRequestError");
  expect_error(post(t.port, "/v1/chat/completions", {{"messages", json::array()}}), 400, "BadRequestError");
  expect_error(Client(t.port).call(http::verb::post, "/v1/completions", "{not json"), 400, "BadRequestError");
  EXPECT_EQ(get(t.port, "/v1/completions").status, 405U);
  EXPECT_EQ(get(t.port, "/nope").status, 404U);
  EXPECT_EQ(t.server->stats().invalid, 6);
}

TEST(TwinOpenAi, KeepAliveServesSeveralRequestsOnOneConnection) {
  OpenAiTwin t;
  Client c(t.port);
  for (int i = 0; i < 3; ++i) {
    const json body = {{"prompt", kPrompt}, {"max_tokens", 2}, {"ignore_eos", true}, {"stream", i % 2 == 0}};
    const auto r = c.call(http::verb::post, "/v1/completions", body.dump());
    ASSERT_EQ(r.status, 200U) << r.body;
  }
  EXPECT_EQ(c.call(http::verb::get, "/health").status, 200U);
  EXPECT_EQ(t.server->stats().completed, 3);
}

TEST(TwinOpenAi, OverloadIs429WithRetryAfterWhereTheEngineRejects) {
  FakeEngineParams p;
  p.max_concurrent = 2;
  p.step_base_ns = 20 * kNsPerMs;
  OpenAiTwin t(p);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, too_many{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      const auto r = post(t.port, "/v1/completions",
                          {{"prompt", "abc"}, {"max_tokens", 10}, {"ignore_eos", true}, {"stream", i % 2 == 0}});
      if (r.status == 200) ++ok;
      if (r.status == 429 && r.retry_after == "1" && json::parse(r.body)["error"]["code"] == 429) ++too_many;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok + too_many, 6);
  EXPECT_GE(ok.load(), 2);
  EXPECT_GE(too_many.load(), 1);
  EXPECT_EQ(t.server->stats().rejected, too_many.load());
}

TEST(TwinOpenAi, ClientDisconnectCancelsTheRequest) {
  FakeEngineParams p;
  p.max_concurrent = 1;
  p.step_base_ns = 10 * kNsPerMs;
  OpenAiTwin t(p);
  {
    Client c(t.port);
    const json body = {{"prompt", "abc"}, {"max_tokens", 1000}, {"ignore_eos", true}, {"stream", true}};
    http::request<http::string_body> req(http::verb::post, "/v1/completions", 11);
    req.set(http::field::content_type, "application/json");
    req.body() = body.dump();
    req.prepare_payload();
    http::write(c.socket(), req);
    char buf[256];
    c.socket().read_some(net::buffer(buf));  // the stream has started
  }  // closed: ~10 s of tokens left
  for (int i = 0; i < 1000 && t.server->stats().cancelled == 0; ++i) {  // up to 10 s on a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(t.server->stats().cancelled, 1);
  const auto m = parse_prometheus(get(t.port, "/metrics").body);
  EXPECT_EQ(value(m, "vllm:request_success_total", ",finished_reason=\"abort\""), 1);
  // The single slot is free again.
  EXPECT_EQ(post(t.port, "/v1/completions", {{"prompt", "abc"}, {"max_tokens", 2}}).status, 200U);
}

TEST(TwinOpenAi, MetricsParseAndCountersMoveAsRequestsComplete) {
  OpenAiTwin t;
  const auto before = get(t.port, "/metrics");
  ASSERT_EQ(before.status, 200U);
  EXPECT_EQ(before.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const auto m0 = parse_prometheus(before.body);
  EXPECT_EQ(value(m0, "vllm:generation_tokens_total"), 0);
  EXPECT_EQ(value(m0, "vllm:num_requests_running"), 0);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(post(t.port, "/v1/completions", {{"prompt", kPrompt}, {"max_tokens", 5}, {"ignore_eos", true},
                                              {"stream", true}})
                  .status,
              200U);
  }
  const auto m1 = parse_prometheus(get(t.port, "/metrics").body);
  EXPECT_EQ(value(m1, "vllm:generation_tokens_total"), 15);
  EXPECT_EQ(value(m1, "vllm:prompt_tokens_total"), 12);
  EXPECT_EQ(value(m1, "vllm:request_success_total", ",finished_reason=\"length\""), 3);
  EXPECT_EQ(value(m1, "vllm:request_success_total", ",finished_reason=\"stop\""), 0);
  EXPECT_EQ(value(m1, "vllm:num_requests_running"), 0);
  EXPECT_EQ(value(m1, "vllm:num_requests_waiting"), 0);
  EXPECT_EQ(value(m1, "vllm:num_preemptions_total"), 0);
  EXPECT_EQ(value(m1, "vllm:e2e_request_latency_seconds_count"), 3);
  EXPECT_EQ(value(m1, "vllm:time_to_first_token_seconds_count"), 3);
  EXPECT_EQ(value(m1, "vllm:inter_token_latency_seconds_count"), 12);  // 4 intervals per request
  EXPECT_EQ(value(m1, "vllm:time_per_output_token_seconds_count"), 12);
  EXPECT_EQ(value(m1, "vllm:request_queue_time_seconds_count"), 3);
  EXPECT_EQ(value(m1, "vllm:request_time_per_output_token_seconds_count"), 3);
  EXPECT_EQ(value(m1, "vllm:request_generation_tokens_sum"), 15);
  // The fake engine's step is 8 ms + 0.2 ms per sequence: every ITL lies in (0.005, 0.025].
  EXPECT_EQ(value(m1, "vllm:inter_token_latency_seconds_bucket", ",le=\"0.01\""), 12);
  EXPECT_EQ(value(m1, "vllm:inter_token_latency_seconds_bucket", ",le=\"+Inf\""), 12);
  const double ttft_sum = value(m1, "vllm:time_to_first_token_seconds_sum");
  EXPECT_GT(ttft_sum, 3 * 0.008);  // at least one 8 ms step each
  EXPECT_LT(ttft_sum, 3 * 0.5);
}

TEST(TwinOpenAi, GrpcTwinServesMetricsOnASidePort) {
  live::TwinOptions o;
  o.model_name = "m";
  o.metrics_listen = "127.0.0.1:0";
  live::TwinServer server(o, fake_factory());
  const int port = server.start();
  ASSERT_GT(server.metrics_port(), 0);
  auto stub = fmaas::GenerationService::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  fmaas::SingleGenerationRequest r;
  r.mutable_request()->set_text(kPrompt);
  r.mutable_params()->mutable_stopping()->set_min_new_tokens(7);
  r.mutable_params()->mutable_stopping()->set_max_new_tokens(7);
  auto reader = stub->GenerateStream(&ctx, r);
  fmaas::GenerationResponse msg;
  while (reader->Read(&msg)) {
  }
  ASSERT_TRUE(reader->Finish().ok());
  const auto m = parse_prometheus(get(server.metrics_port(), "/metrics").body);
  EXPECT_EQ(value(m, "vllm:generation_tokens_total"), 7);
  EXPECT_EQ(value(m, "vllm:request_success_total", ",finished_reason=\"length\""), 1);
  EXPECT_EQ(get(server.metrics_port(), "/health").status, 200U);
}

// Issue 20: a second twin on a port another one holds is an error, not a silent split of the
// traffic (gRPC binds with SO_REUSEPORT unless told not to).
TEST(TwinOpenAi, PortInUseIsRefusedForEveryFrontEnd) {
  for (const auto fe : {live::TwinFrontEnd::kGrpc, live::TwinFrontEnd::kOpenai}) {
    live::TwinOptions o;
    o.front_end = fe;
    live::TwinServer first(o, fake_factory());
    const int port = first.start();
    live::TwinOptions again = o;
    again.listen = "127.0.0.1:" + std::to_string(port);
    live::TwinServer second(again, fake_factory());
    EXPECT_THROW(second.start(), live::PortInUseError) << "front end " << static_cast<int>(fe);
  }
  // Asked for on both sides, SO_REUSEPORT lets a second twin bind (what gRPC did unasked before).
  for (const auto fe : {live::TwinFrontEnd::kGrpc, live::TwinFrontEnd::kOpenai}) {
    live::TwinOptions o;
    o.front_end = fe;
    o.reuse_port = true;
    live::TwinServer first(o, fake_factory());
    live::TwinOptions again = o;
    again.listen = "127.0.0.1:" + std::to_string(first.start());
    live::TwinServer second(again, fake_factory());
    EXPECT_NO_THROW(second.start()) << "front end " << static_cast<int>(fe);
  }
}

}  // namespace
}  // namespace servetwin::testing

namespace servetwin::testing {
namespace {

// The key order and value types of a JSON document (values themselves ignored): what must match
// between the twin and a real vLLM server for a client to parse both alike.
std::string shape(const nlohmann::ordered_json& j) {
  if (j.is_object()) {
    std::string s = "{";
    for (auto it = j.begin(); it != j.end(); ++it) s += it.key() + ":" + shape(it.value()) + ",";
    return s + "}";
  }
  if (j.is_array()) return j.empty() ? "[]" : "[" + shape(j.front()) + "]";
  if (j.is_null()) return "null";
  if (j.is_string()) return "str";
  if (j.is_boolean()) return "bool";
  return "num";
}

// Real vLLM transcripts (tests/engines/data, saved from vLLM's OpenAI server by the engines
// tests); SERVETWIN_VLLM_TRANSCRIPTS points elsewhere. Absent: the comparison is skipped.
std::filesystem::path transcript(const std::string& name) {
  const char* env = std::getenv("SERVETWIN_VLLM_TRANSCRIPTS");
  const std::filesystem::path dir = env ? env : std::string(SERVETWIN_SOURCE_DIR) + "/tests/engines/data";
  return dir / name;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(TwinOpenAi, CompletionsWireShapeMatchesRealVllm) {
  const auto sse = transcript("vllm-0.11.2-completions-stream.sse");
  const auto whole = transcript("vllm-0.11.2-completions.json");
  if (!std::filesystem::exists(sse) || !std::filesystem::exists(whole)) GTEST_SKIP() << "no vLLM transcript at " << sse;
  const auto real = sse_data(read_file(sse));
  ASSERT_GE(real.size(), 4U);
  OpenAiTwin t;
  const auto twin = sse_data(post(t.port, "/v1/completions",
                                  {{"prompt", kPrompt}, {"max_tokens", 4}, {"ignore_eos", true}, {"stream", true},
                                   {"stream_options", {{"include_usage", true}}}})
                                 .body);
  ASSERT_EQ(twin.size(), 6U);
  using oj = nlohmann::ordered_json;
  EXPECT_EQ(shape(oj::parse(twin[0])), shape(oj::parse(real[0])));                              // a token
  EXPECT_EQ(shape(oj::parse(twin[3])), shape(oj::parse(real[real.size() - 3])));                // the last token
  EXPECT_EQ(shape(oj::parse(twin[4])), shape(oj::parse(real[real.size() - 2])));                // usage
  EXPECT_EQ(twin[5], real.back());                                                               // [DONE]
  const auto body = post(t.port, "/v1/completions", {{"prompt", kPrompt}, {"max_tokens", 4}, {"ignore_eos", true}}).body;
  EXPECT_EQ(shape(oj::parse(body)), shape(oj::parse(read_file(whole))));
  const auto err = transcript("vllm-0.11.2-completions-error-max-tokens.json");
  if (std::filesystem::exists(err)) {
    const auto e = post(t.port, "/v1/completions", {{"prompt", kPrompt}, {"max_tokens", 5000}});
    EXPECT_EQ(shape(oj::parse(e.body)), shape(oj::parse(read_file(err))));
    EXPECT_EQ(oj::parse(e.body)["error"]["message"],
              "This model's maximum context length is -904 tokens. However, your request has 4 input tokens. "
              "Please reduce the length of the input messages.");  // vLLM 0.11.2's wording, 4096 - 5000
  }
}

// Chat has no saved transcript yet: the expected shapes are vLLM 0.11.2's own pydantic models
// (ChatCompletionStreamResponse / ChatCompletionResponse in vllm/entrypoints/openai/protocol.py)
// built and dumped the way serving_chat.py does (exclude_unset=True for chunks; the whole
// response by model_dump()), run in that version's venv on 2026-12-06.
TEST(TwinOpenAi, ChatWireShapeMatchesVllmModels) {
  using oj = nlohmann::ordered_json;
  const std::string first =
      R"({"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_content":null},"logprobs":null,"finish_reason":null}],"prompt_token_ids":null})";
  const std::string middle =
      R"({"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" a","reasoning_content":null},"logprobs":null,"finish_reason":null}]})";
  const std::string last =
      R"({"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" a","reasoning_content":null},"logprobs":null,"finish_reason":"length","stop_reason":null,"token_ids":null}]})";
  const std::string usage =
      R"({"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"total_tokens":2,"completion_tokens":1}})";
  const std::string whole =
      R"({"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null,"annotations":null,"audio":null,"function_call":null,"tool_calls":[],"reasoning":null,"reasoning_content":null},"logprobs":null,"finish_reason":"length","stop_reason":null,"token_ids":null}],"service_tier":null,"system_fingerprint":null,"usage":{"prompt_tokens":1,"total_tokens":2,"completion_tokens":1,"prompt_tokens_details":null},"prompt_logprobs":null,"prompt_token_ids":null,"kv_transfer_params":null})";
  OpenAiTwin t;
  const json msgs = json::array({{{"role", "user"}, {"content", kPrompt}}});
  const auto events = sse_data(post(t.port, "/v1/chat/completions",
                                    {{"messages", msgs}, {"max_tokens", 3}, {"ignore_eos", true}, {"stream", true},
                                     {"stream_options", {{"include_usage", true}}}})
                                   .body);
  ASSERT_EQ(events.size(), 6U);  // role, 3 tokens, usage, [DONE]
  EXPECT_EQ(shape(oj::parse(events[0])), shape(oj::parse(first)));
  EXPECT_EQ(shape(oj::parse(events[1])), shape(oj::parse(middle)));
  EXPECT_EQ(shape(oj::parse(events[3])), shape(oj::parse(last)));
  EXPECT_EQ(shape(oj::parse(events[4])), shape(oj::parse(usage)));
  const auto body = post(t.port, "/v1/chat/completions", {{"messages", msgs}, {"max_tokens", 3}}).body;
  EXPECT_EQ(shape(oj::parse(body)), shape(oj::parse(whole)));
}

// The twin's streaming bytes on the wire: the chunk framing and header its direct-send path writes
// (live/twin/http_chunk_send.*) are the bytes Beast writes for the same answer, and a streamed
// completion read raw off the socket is the exact header, then well-formed chunks, each holding
// whole SSE events, then the last chunk.
constexpr std::string_view kSseHeader =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n";

std::string beast_chunk(const std::string& data) { return beast::buffers_to_string(http::make_chunk(net::buffer(data))); }
std::string beast_last_chunk() { return beast::buffers_to_string(http::make_chunk_last()); }

TEST(TwinHttpWire, ChunkFramingIsBeasts) {
  for (const std::size_t n : {1UL, 9UL, 15UL, 16UL, 255UL, 256UL, 300UL, 4096UL, 65537UL}) {
    const std::string data(n, 'x');
    std::string unsent;
    // fd -1: nothing is sent (EBADF, an error), so everything comes back framed in `unsent`.
    EXPECT_FALSE(live::send_chunk_now(-1, "", data, false, unsent));
    EXPECT_EQ(unsent, beast_chunk(data)) << n;
    unsent.clear();
    live::send_chunk_now(-1, "HEAD", data, true, unsent);
    EXPECT_EQ(unsent, "HEAD" + beast_chunk(data) + beast_last_chunk()) << n;
  }
  std::string last;
  live::send_chunk_now(-1, "", "", true, last);
  EXPECT_EQ(last, beast_last_chunk());
}

TEST(TwinHttpWire, ChunkGoesOutInOneSendOnASocket) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  const std::string data = "data: {\"x\":1}\n\n";
  std::string unsent;
  EXPECT_TRUE(live::send_chunk_now(sv[0], "H", data, true, unsent));
  EXPECT_EQ(unsent, "");
  const std::string want = "H" + beast_chunk(data) + beast_last_chunk();
  std::string got(want.size() + 16, '\0');
  const auto n = ::recv(sv[1], got.data(), got.size(), MSG_DONTWAIT);
  ASSERT_GT(n, 0);
  got.resize(static_cast<std::size_t>(n));
  EXPECT_EQ(got, want);
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST(TwinHttpWire, HeaderIsBeastsSerializerOutput) {
  EXPECT_EQ(live::chunked_response_header(200, "text/event-stream; charset=utf-8", 11, true), kSseHeader);
  // Beast's own header writer for a message the twin could send (Connection: close).
  http::response<http::empty_body> msg{http::status::ok, 11};
  msg.set(http::field::content_type, "text/plain");
  msg.keep_alive(false);
  msg.chunked(true);
  std::ostringstream beast_header;
  beast_header << msg.base();
  EXPECT_EQ(live::chunked_response_header(200, "text/plain", 11, false), beast_header.str());
}

// Reads from `s` until the buffer ends with the last chunk.
std::string read_until_last_chunk(tcp::socket& s) {
  std::string raw;
  std::array<char, 4096> buf{};
  while (raw.size() < 5 || raw.compare(raw.size() - 5, 5, "0\r\n\r\n") != 0) {
    beast::error_code ec;
    const std::size_t n = s.read_some(net::buffer(buf), ec);
    if (ec) break;
    raw.append(buf.data(), n);
  }
  return raw;
}

TEST(TwinHttpWire, StreamedCompletionIsHeaderThenWholeEventChunksThenTheLastChunk) {
  OpenAiTwin twin;
  const int port = twin.port;
  net::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  const std::string body = nlohmann::json{{"model", "m"},     {"prompt", "0123456789abcdef"}, {"max_tokens", 6},
                                          {"ignore_eos", true}, {"stream", true},
                                          {"stream_options", {{"include_usage", true}}}}
                               .dump();
  const std::string req = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  net::write(s, net::buffer(req));
  const std::string raw = read_until_last_chunk(s);
  ASSERT_EQ(raw.rfind(kSseHeader, 0), 0U) << raw;
  std::size_t pos = kSseHeader.size();
  std::string sse;
  int chunks = 0;
  while (true) {
    const auto eol = raw.find("\r\n", pos);
    ASSERT_NE(eol, std::string::npos) << raw;
    const std::string hex = raw.substr(pos, eol - pos);
    ASSERT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;  // lowercase, no extensions
    const std::size_t n = std::stoul(hex, nullptr, 16);
    if (n == 0) {
      EXPECT_EQ(raw.substr(eol), "\r\n\r\n");  // the last chunk, no trailers, nothing after
      break;
    }
    const std::string payload = raw.substr(eol + 2, n);
    EXPECT_EQ(raw.substr(eol + 2 + n, 2), "\r\n");
    EXPECT_EQ(payload.rfind("data: ", 0), 0U) << payload;  // whole events per chunk
    EXPECT_EQ(payload.substr(payload.size() - 2), "\n\n") << payload;
    sse += payload;
    pos = eol + 2 + n + 2;
    ++chunks;
  }
  EXPECT_GE(chunks, 1);
  // 6 token events, the usage event, [DONE].
  std::size_t events = 0;
  for (std::size_t at = sse.find("\n\n"); at != std::string::npos; at = sse.find("\n\n", at + 2)) ++events;
  EXPECT_EQ(events, 8U) << sse;
  EXPECT_NE(sse.find("data: [DONE]\n\n"), std::string::npos);
}

// POST /tokenize as vLLM answers it (TokenizeResponse: count, max_model_len, tokens, token_strs):
// the count the twin charges the prompt (usage.prompt_tokens), so a runner can ask the twin and a real
// server the same way; chat messages count as the chat request does; another model is vLLM's 404.
TEST(TwinOpenAi, TokenizeCountsWhatUsageCharges) {
  OpenAiTwin t;
  const auto r = post(t.port, "/tokenize", {{"model", "m"}, {"prompt", kPrompt}});
  ASSERT_EQ(r.status, 200U) << r.body;
  const auto j = json::parse(r.body);
  EXPECT_EQ(j["count"], 4);
  EXPECT_EQ(j["tokens"].size(), 4U);
  EXPECT_EQ(j["max_model_len"], 4096);
  EXPECT_TRUE(j["token_strs"].is_null());
  const auto strs = json::parse(post(t.port, "/tokenize", {{"prompt", kPrompt}, {"return_token_strs", true}}).body);
  EXPECT_EQ(strs["token_strs"], json::array({"0123", "4567", "89ab", "cdef"}));
  EXPECT_EQ(strs["tokens"], j["tokens"]);
  const json msgs = json::array({{{"role", "user"}, {"content", kPrompt + kPrompt}}});
  EXPECT_EQ(json::parse(post(t.port, "/tokenize", {{"messages", msgs}}).body)["count"], 8);
  const auto usage = json::parse(post(t.port, "/v1/completions", {{"prompt", kPrompt}, {"max_tokens", 1}}).body);
  EXPECT_EQ(usage["usage"]["prompt_tokens"], j["count"]);
  const auto wrong = post(t.port, "/tokenize", {{"model", "other"}, {"prompt", kPrompt}});
  EXPECT_EQ(wrong.status, 404U);
  EXPECT_EQ(json::parse(wrong.body)["error"]["message"], "The model `other` does not exist.");
  EXPECT_EQ(post(t.port, "/tokenize", {{"max_tokens", 1}}).status, 400U);
  EXPECT_EQ(get(t.port, "/tokenize").status, 405U);
  const auto real = transcript("vllm-0.11.2-tokenize.json");
  if (!std::filesystem::exists(real)) GTEST_SKIP() << "no vLLM transcript at " << real;
  EXPECT_EQ(shape(nlohmann::ordered_json::parse(r.body)), shape(nlohmann::ordered_json::parse(read_file(real))));
}

}  // namespace
}  // namespace servetwin::testing
