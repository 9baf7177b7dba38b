#include "tests/live/fake_openai_server.hpp"

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>

namespace servetwin::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct FakeOpenAiServer::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  Script script;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::vector<FakeOpenAiRequest> log;
  std::vector<std::pair<std::string, std::int64_t>> first_writes;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  std::vector<std::thread> threads;
  std::thread accept_thread;
  FakeOpenAiServer* owner = nullptr;

  void accept_loop();
  std::optional<asio::ssl::context> tls;  // with TlsFiles: every connection is TLS
  void serve(const std::shared_ptr<tcp::socket>& sock);
  template <class Stream>
  void serve_on(Stream& s, tcp::socket& sock);
  // Returns false when the connection must close.
  template <class Stream>
  bool answer(Stream& s, tcp::socket& sock, const http::request<http::string_body>& req);
  template <class Stream>
  bool stream(Stream& s, tcp::socket& sock, const http::request<http::string_body>& req, const FakeOpenAiRequest& r,
              const FakeOpenAiReply& reply);
};

namespace {

// One vLLM-style stream chunk: a token (text), the final token (finish), or the usage chunk.
std::string chunk_json(bool chat, int index, int total, const std::string& text, const char* finish) {
  nlohmann::ordered_json j;
  j["id"] = "cmpl-fake";
  j["object"] = chat ? "chat.completion.chunk" : "text_completion";
  j["created"] = 0;
  j["model"] = "fake-model";
  nlohmann::ordered_json c;
  c["index"] = 0;
  if (chat) {
    c["delta"] = index < 0 ? nlohmann::ordered_json{{"role", "assistant"}, {"content", ""}}
                           : nlohmann::ordered_json{{"content", text}};
    c["logprobs"] = nullptr;
  } else {
    c["text"] = text;
    c["logprobs"] = nullptr;
  }
  c["finish_reason"] = finish == nullptr ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(finish);
  c["stop_reason"] = nullptr;
  j["choices"] = nlohmann::ordered_json::array({c});
  j["usage"] = nullptr;
  (void)total;
  return j.dump();
}

std::string usage_json(bool chat, std::int64_t prompt, std::int64_t completion) {
  nlohmann::ordered_json j;
  j["id"] = "cmpl-fake";
  j["object"] = chat ? "chat.completion.chunk" : "text_completion";
  j["created"] = 0;
  j["model"] = "fake-model";
  j["choices"] = nlohmann::ordered_json::array();
  j["usage"] = {{"prompt_tokens", prompt}, {"total_tokens", prompt + completion}, {"completion_tokens", completion}};
  return j.dump();
}

std::int64_t prompt_tokens_of(const nlohmann::json& body) {
  std::string text;
  if (body.contains("prompt")) text = body["prompt"].get<std::string>();
  else if (body.contains("messages")) text = body["messages"][0]["content"].get<std::string>();
  return static_cast<std::int64_t>((text.size() + 3) / 4);
}

}  // namespace

FakeOpenAiServer::FakeOpenAiServer(Script script, const TlsFiles& tls) : impl_(std::make_unique<Impl>()) {
  impl_->script = std::move(script);
  if (!tls.cert_pem.empty()) {
    impl_->tls.emplace(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(tls.cert_pem);
    impl_->tls->use_private_key_file(tls.key_pem, asio::ssl::context::pem);
  }
  impl_->owner = this;
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
}

FakeOpenAiServer::~FakeOpenAiServer() {
  impl_->stopping = true;
  beast::error_code ec;
  // Wake the accept loop with one last connection, then close every socket and join.
  {
    tcp::socket s(impl_->io);
    s.connect(impl_->acceptor.local_endpoint(), ec);
  }
  impl_->accept_thread.join();
  {
    std::lock_guard lk(impl_->mu);
    for (auto& s : impl_->sockets) s->shutdown(tcp::socket::shutdown_both, ec);
  }
  for (auto& t : impl_->threads) t.join();
}

std::vector<FakeOpenAiRequest> FakeOpenAiServer::requests() {
  std::lock_guard lk(impl_->mu);
  return impl_->log;
}

std::vector<std::pair<std::string, std::int64_t>> FakeOpenAiServer::first_token_writes() {
  std::lock_guard lk(impl_->mu);
  return impl_->first_writes;
}

void FakeOpenAiServer::Impl::accept_loop() {
  while (!stopping) {
    auto sock = std::make_shared<tcp::socket>(io);
    beast::error_code ec;
    acceptor.accept(*sock, ec);
    if (ec || stopping) break;
    ++owner->accepted_;
    sock->set_option(tcp::no_delay(true), ec);  // as asyncio servers (uvicorn, vLLM) do: no Nagle delay
    std::lock_guard lk(mu);
    sockets.push_back(sock);
    threads.emplace_back([this, sock] { serve(sock); });
  }
}

void FakeOpenAiServer::Impl::serve(const std::shared_ptr<tcp::socket>& sock) {
  if (tls) {
    asio::ssl::stream<tcp::socket&> s(*sock, *tls);
    beast::error_code ec;
    s.handshake(asio::ssl::stream_base::server, ec);
    if (!ec) serve_on(s, *sock);
  } else {
    serve_on(*sock, *sock);
  }
  beast::error_code ec;
  sock->shutdown(tcp::socket::shutdown_both, ec);
}

template <class Stream>
void FakeOpenAiServer::Impl::serve_on(Stream& s, tcp::socket& sock) {
  beast::flat_buffer buf;
  while (!stopping) {
    http::request<http::string_body> req;
    beast::error_code ec;
    http::read(s, buf, req, ec);
    if (ec) break;
    if (!answer(s, sock, req)) break;
    if (!req.keep_alive()) break;
  }
}

namespace {

template <class Stream>
bool write_json(Stream& sock, http::status status, std::string body, bool keep_alive,
                const std::string& retry_after = {}) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "application/json");
  if (!retry_after.empty()) res.set(http::field::retry_after, retry_after);
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  beast::error_code ec;
  http::write(sock, res, ec);
  return !ec;
}

std::string whole_response_json(bool chat, std::int64_t n, std::int64_t prompt) {
  nlohmann::ordered_json j;
  j["id"] = "cmpl-fake";
  j["object"] = chat ? "chat.completion" : "text_completion";
  std::string text;
  for (std::int64_t i = 0; i < n; ++i) text += " tok";
  nlohmann::ordered_json c = {{"index", 0}};
  if (chat) c["message"] = {{"role", "assistant"}, {"content", text}};
  else c["text"] = text;
  c["finish_reason"] = "length";
  j["choices"] = nlohmann::ordered_json::array({c});
  j["usage"] = {{"prompt_tokens", prompt}, {"total_tokens", prompt + n}, {"completion_tokens", n}};
  return j.dump();
}

// Waits until the client closes the connection (or the server stops).
void stall(tcp::socket& sock, const std::atomic<bool>& stopping) {
  beast::error_code ec;
  while (!stopping && sock.is_open()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    char probe = 0;
    sock.non_blocking(true);
    const auto got = sock.receive(asio::buffer(&probe, 1), tcp::socket::message_peek, ec);
    sock.non_blocking(false);
    if ((!ec && got == 0) || (ec && ec != asio::error::would_block)) return;  // the client closed
    ec.clear();
  }
}

}  // namespace

template <class Stream>
bool FakeOpenAiServer::Impl::answer(Stream& s, tcp::socket& sock, const http::request<http::string_body>& req) {
  FakeOpenAiRequest r;
  r.target = std::string(req.target());
  r.authorization = std::string(req[http::field::authorization]);
  r.request_id = std::string(req["x-request-id"]);
  if (!req.body().empty()) r.body = nlohmann::json::parse(req.body(), nullptr, false);
  {
    std::lock_guard lk(mu);
    log.push_back(r);
  }
  if (req.method() == http::verb::get && r.target == "/v1/models") {
    return write_json(s, http::status::ok, R"({"object":"list","data":[{"id":"fake-model","object":"model"}]})",
                      req.keep_alive());
  }
  const FakeOpenAiReply reply = script(r);
  if (reply.kind == FakeOpenAiReply::kStatus) {
    std::string body = !reply.raw_body.empty()
                           ? reply.raw_body
                           : fmt::format(R"({{"error":{{"message":"fake error {}","type":"BadRequestError",)"
                                         R"("param":null,"code":{}}}}})",
                                         reply.status, reply.status);
    return write_json(s, static_cast<http::status>(reply.status), std::move(body), req.keep_alive(),
                      reply.retry_after);
  }
  const bool chat = r.target == "/v1/chat/completions";
  const std::int64_t n = r.body.value(chat ? "max_completion_tokens" : "max_tokens", 16);
  if (!r.body.value("stream", false)) {
    return write_json(s, http::status::ok,
                      !reply.raw_body.empty() ? reply.raw_body : whole_response_json(chat, n, prompt_tokens_of(r.body) + reply.prompt_token_offset),
                      req.keep_alive());
  }
  return stream(s, sock, req, r, reply);
}

template <class Stream>
bool FakeOpenAiServer::Impl::stream(Stream& s, tcp::socket& sock, const http::request<http::string_body>& req,
                                    const FakeOpenAiRequest& r, const FakeOpenAiReply& reply) {
  http::response<http::empty_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "text/event-stream; charset=utf-8");
  res.chunked(true);
  res.keep_alive(req.keep_alive());
  http::response_serializer<http::empty_body> sr{res};
  beast::error_code ec;
  http::write_header(s, sr, ec);
  if (ec) return false;
  auto send = [&](const std::string& bytes) {
    const std::size_t step = reply.chunk_bytes == 0 ? bytes.size() : reply.chunk_bytes;
    for (std::size_t i = 0; i < bytes.size() && !ec; i += step) {
      asio::write(s, http::make_chunk(asio::buffer(bytes.data() + i, std::min(step, bytes.size() - i))), ec);
    }
  };
  if (reply.kind == FakeOpenAiReply::kStall) {
    stall(sock, stopping);
    return false;
  }
  if (!reply.raw_body.empty()) {
    send(reply.raw_body);
  } else {
    const bool chat = r.target == "/v1/chat/completions";
    const std::int64_t n = r.body.value(chat ? "max_completion_tokens" : "max_tokens", 16);
    if (chat) send("data: " + chunk_json(true, -1, 0, "", nullptr) + "\n\n");
    for (std::int64_t i = 0; i < n && !ec; ++i) {
      if (reply.kind == FakeOpenAiReply::kCloseMidStream && i == 2) return false;
      if (reply.kind == FakeOpenAiReply::kMalformedLine && i == 2) send("dta: {\"oops\": true}\n\n");
      if (reply.kind == FakeOpenAiReply::kStreamError && i == 2) {
        send(R"(data: {"error": {"message": "engine died", "type": "InternalServerError", "code": 500}})" "\n\n");
      }
      if (i > 0 && reply.token_gap_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(reply.token_gap_us));
      send("data: " + chunk_json(chat, static_cast<int>(i), static_cast<int>(n), " tok", i + 1 == n ? "length" : nullptr) +
           "\n\n");
      if (i == 0) {
        const auto t = std::chrono::steady_clock::now().time_since_epoch();
        std::lock_guard lk(mu);
        first_writes.emplace_back(r.request_id, std::chrono::duration_cast<std::chrono::nanoseconds>(t).count());
      }
    }
    const bool include_usage =
        r.body.contains("stream_options") && r.body["stream_options"].value("include_usage", false);
    if (reply.usage && include_usage) send("data: " + usage_json(chat, prompt_tokens_of(r.body) + reply.prompt_token_offset, n) + "\n\n");
    send("data: [DONE]\n\n");
  }
  if (!ec) asio::write(s, http::make_chunk_last(), ec);
  return !ec;
}

}  // namespace servetwin::testing
