// The OpenAI-compatible HTTP API (vLLM's /v1/completions and /v1/chat/completions) over HTTP/1.1
// with Boost.Beast, plain or TLS (Boost.Asio SSL over OpenSSL), streaming (server-sent events) or
// not. Wire format in openai_wire.*, event splitting in sse.*; this file is the client.
//
// Threads: one io_context per polling thread, request i on context i mod n. A context's thread
// reads the socket, takes the timestamp first thing in the read handler, then splits and parses.
// Connections: HTTP/1.1 keep-alive, pooled per context (created on demand, so the pool grows to
// the number of requests in flight, i.e. the stage's concurrency, and is reused across requests);
// a reused connection that the server closed while idle is replaced once, transparently.
// Per-request deadline: one timer per polling thread for all of its requests (DeadlineWatch), not
// beast::tcp_stream's expiry, which arms and cancels a timer around every read.
//
// Per SSE event the polling thread does one socket read (raw bytes into the connection's buffer),
// takes the timestamp, runs Beast's HTTP parser over everything buffered (chunked framing), splits
// the body into events and parses each: no timer, no post, no allocation once the buffers grew.
#include <fmt/format.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>
#include <boost/asio/steady_timer.hpp>
#include <limits>
#include <map>
#include <optional>
#include <thread>

#include "live/load/openai_tokenize.hpp"
#include "live/load/openai_wire.hpp"
#include "live/load/runner.hpp"
#include "live/load/sse.hpp"

namespace servetwin::live {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyTime = std::chrono::steady_clock::time_point;

// One keep-alive connection, plain or TLS, with its read buffer.
struct HttpConnection {
  HttpConnection(asio::io_context& io, asio::ssl::context* tls_ctx) {
    if (tls_ctx != nullptr) tls.emplace(io, *tls_ctx);
    else plain.emplace(io);
  }
  beast::tcp_stream& lowest() { return tls ? tls->next_layer() : *plain; }
  template <class F>
  void visit(F&& f) {
    if (tls) f(*tls);
    else f(*plain);
  }
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
};

// Server Name Indication (SSL_set_tlsext_host_name, without the macro's C cast).
bool set_sni(beast::ssl_stream<beast::tcp_stream>& s, const std::string& host) {
  return SSL_ctrl(s.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                  const_cast<char*>(host.c_str())) == 1;
}

class OpenAiCall;

// The deadlines of one polling thread's requests, with one timer armed at the earliest: a request
// past its deadline has its connection closed, which ends its pending I/O (a timeout). Requests
// start in deadline order (one timeout per run), so the timer fires about once per timeout.
class DeadlineWatch {
 public:
  using Entry = std::multimap<SteadyTime, OpenAiCall*>::iterator;
  explicit DeadlineWatch(asio::io_context& io) : timer_(io) {}
  Entry add(SteadyTime deadline, OpenAiCall* call) {
    const Entry e = calls_.emplace(deadline, call);
    arm();
    return e;
  }
  void remove(Entry e) { calls_.erase(e); }  // the armed wait, if any, finds nothing and stops
  void stop() { timer_.cancel(); }

 private:
  void arm();
  void fire();
  asio::steady_timer timer_;
  std::multimap<SteadyTime, OpenAiCall*> calls_;
  bool waiting_ = false;
  SteadyTime armed_at_{};
};

// An io_context, its thread, its idle connections and its requests' deadlines (touched on that
// thread only).
struct Loop {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::vector<std::unique_ptr<HttpConnection>> idle;
  DeadlineWatch deadlines{io};
  std::thread thread;
};

class OpenAiTransport;

// One request: connect (or reuse), write, read the header, then the SSE body chunk by chunk (or
// the whole JSON body), and end exactly once.
class OpenAiCall final : public InFlight {
 public:
  OpenAiCall(OpenAiTransport& t, Loop& loop, LiveRecord rec, std::int64_t user_slot, http::request<http::string_body> req);
  void start();
  void on_deadline();  // DeadlineWatch: the deadline passed; the watch has dropped this request

 protected:
  void abort_io() override;

 private:
  void connect();
  void handshake();
  void write();
  void read_header();
  void on_header(TimeNs t);
  void read_stream();
  void on_stream_bytes(TimeNs t, beast::error_code ec);
  void parse_buffered(beast::error_code& ec);
  void consume_body(TimeNs t);
  bool handle_event(TimeNs t, std::string_view data);
  void read_whole(bool error_body);
  void on_whole(TimeNs t, bool error_body);
  void retry_fresh();
  void fail(const beast::error_code& ec, const char* stage);
  void end(CallOutcome o, bool keep_connection);
  [[nodiscard]] bool before_deadline() const { return !timed_out_ && std::chrono::steady_clock::now() < deadline_; }

  OpenAiTransport& t_;
  Loop& loop_;
  std::unique_ptr<HttpConnection> conn_;
  bool reused_ = false;
  bool ended_ = false;
  SteadyTime deadline_;
  std::optional<DeadlineWatch::Entry> watch_;  // while the request is in its loop's DeadlineWatch
  bool timed_out_ = false;
  http::request<http::string_body> req_;
  std::optional<http::response_parser<http::string_body>> parser_;
  SseSplitter sse_;
  std::int64_t chunks_ = 0;  // SSE events that carried output text
  std::optional<std::int64_t> usage_prompt_, usage_completion_;
  std::string finish_reason_;
  bool done_seen_ = false;
  std::string stream_error_;  // an in-stream {"error": ...}
};

class OpenAiTransport final : public Transport {
 public:
  OpenAiTransport(const LoadConfig& cfg, RequestHost& host)
      : cfg_(cfg), host_(host), target_(parse_http_target(cfg.target)) {
    opts_.chat = cfg.protocol == Protocol::kOpenaiChat;
    opts_.stream = cfg.stream;
    opts_.model = cfg.model_id;
    opts_.temperature = cfg.temperature;
    opts_.ignore_eos = cfg.ignore_eos;
    if (target_.tls) {
      tls_ctx_.emplace(asio::ssl::context::tls_client);
      if (cfg.tls_insecure) {
        tls_ctx_->set_verify_mode(asio::ssl::verify_none);
      } else {
        tls_ctx_->set_verify_mode(asio::ssl::verify_peer);
        if (!cfg.ca_file.empty()) tls_ctx_->load_verify_file(cfg.ca_file);
        else tls_ctx_->set_default_verify_paths();
      }
    }
  }
  ~OpenAiTransport() override { stop(); }
  OpenAiTransport(const OpenAiTransport&) = delete;
  OpenAiTransport& operator=(const OpenAiTransport&) = delete;

  nlohmann::json wait_until_ready() override;
  void start(int poll_threads) override {
    asio::io_context resolver_io;
    tcp::resolver resolver(resolver_io);
    endpoints_ = resolver.resolve(target_.host, target_.port);
    for (int i = 0; i < poll_threads; ++i) loops_.push_back(std::make_unique<Loop>());
    for (auto& l : loops_) l->thread = std::thread([io = &l->io] { io->run(); });
  }
  void send(LiveRecord rec, std::int64_t user_slot, const PromptSample& e) override {
    Loop& loop = *loops_[rec.rec.request_id % loops_.size()];
    const std::uint64_t id = rec.rec.request_id;
    auto* c = new OpenAiCall(*this, loop, std::move(rec), user_slot, make_request(openai_request_body(opts_, e), id));
    host_.register_live(c);
    asio::post(loop.io, [c] { c->start(); });
  }
  void stop() override {
    for (auto& l : loops_) {
      asio::post(l->io, [lp = l.get()] {
        lp->idle.clear();
        lp->deadlines.stop();
      });
      l->work.reset();
    }
    for (auto& l : loops_) {
      if (l->thread.joinable()) l->thread.join();
    }
    loops_.clear();
  }
  ServerTokenCounts count_tokens(const std::vector<std::string>& texts) override {
    constexpr double kTokenizeTimeoutS = 10;  // per text; a tokenizer answers in milliseconds
    return openai_tokenize(target_, cfg_.api_key, opts_.model, opts_.chat, texts, kTokenizeTimeoutS);
  }
  [[nodiscard]] const char* status_counts_key() const override { return "http_status_counts"; }
  [[nodiscard]] bool uses_tls() const override { return target_.tls; }
  [[nodiscard]] nlohmann::json resolved_config_extra() const override {
    return {{"endpoint", openai_path(opts_.chat)}, {"model", opts_.model},           {"temperature", opts_.temperature},
            {"ignore_eos", opts_.ignore_eos},       {"api_key", !cfg_.api_key.empty()}, {"tls_verify", !cfg_.tls_insecure}};
  }

  // For the calls.
  [[nodiscard]] http::request<http::string_body> make_request(std::string body, std::uint64_t request_id) const {
    http::request<http::string_body> req{http::verb::post, openai_path(opts_.chat), 11};
    req.set(http::field::host, target_.host);
    req.set(http::field::user_agent, "servetwin-load");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, opts_.stream ? "text/event-stream" : "application/json");
    if (!cfg_.api_key.empty()) req.set(http::field::authorization, "Bearer " + cfg_.api_key);
    req.set("x-request-id", std::to_string(request_id));
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }
  std::string get_models_once(std::chrono::steady_clock::duration limit, http::response<http::string_body>& res);
  const LoadConfig& cfg_;
  RequestHost& host_;
  HttpTarget target_;
  OpenAiRequestOptions opts_;
  std::optional<asio::ssl::context> tls_ctx_;
  tcp::resolver::results_type endpoints_;

 private:
  std::vector<std::unique_ptr<Loop>> loops_;
};

OpenAiCall::OpenAiCall(OpenAiTransport& t, Loop& loop, LiveRecord rec, std::int64_t user_slot,
                       http::request<http::string_body> req)
    : InFlight(&t.host_, std::move(rec), user_slot),
      t_(t),
      loop_(loop),
      deadline_(std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                        std::chrono::duration<double>(t.cfg_.timeout_s))),
      req_(std::move(req)) {}

void DeadlineWatch::arm() {
  if (calls_.empty()) return;
  const SteadyTime first = calls_.begin()->first;
  if (waiting_ && first >= armed_at_) return;
  waiting_ = true;
  armed_at_ = first;
  timer_.expires_at(first);  // cancels an earlier wait (its handler sees operation_aborted)
  timer_.async_wait([this](const beast::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    waiting_ = false;
    fire();
  });
}

void DeadlineWatch::fire() {
  const SteadyTime now = std::chrono::steady_clock::now();
  while (!calls_.empty() && calls_.begin()->first <= now) {
    OpenAiCall* c = calls_.begin()->second;
    calls_.erase(calls_.begin());
    c->on_deadline();
  }
  arm();
}

// On the loop's thread from here on.
void OpenAiCall::start() {
  if (!cancel_reason().empty()) {  // cancelled before it started
    fail(asio::error::operation_aborted, "start");
    return;
  }
  watch_ = loop_.deadlines.add(deadline_, this);
  if (!loop_.idle.empty()) {
    conn_ = std::move(loop_.idle.back());
    loop_.idle.pop_back();
    reused_ = true;
    write();
    return;
  }
  conn_ = std::make_unique<HttpConnection>(loop_.io, t_.tls_ctx_ ? &*t_.tls_ctx_ : nullptr);
  connect();
}

void OpenAiCall::on_deadline() {
  watch_.reset();
  timed_out_ = true;
  if (conn_ && !ended_) {
    beast::error_code ignored;
    conn_->lowest().socket().close(ignored);  // the pending operation ends: fail() says timeout
  }
}

void OpenAiCall::connect() {
  conn_->lowest().async_connect(t_.endpoints_, [this](const beast::error_code& ec, const tcp::endpoint&) {
    if (ec) return fail(ec, "connect");
    conn_->lowest().socket().set_option(tcp::no_delay(true));
    if (conn_->tls) handshake();
    else write();
  });
}

void OpenAiCall::handshake() {
  // SNI, and the host name the certificate must carry (unless --insecure).
  if (!set_sni(*conn_->tls, t_.target_.host)) {
    return fail(beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()), "tls");
  }
  if (!t_.cfg_.tls_insecure) conn_->tls->set_verify_callback(asio::ssl::host_name_verification(t_.target_.host));
  conn_->tls->async_handshake(asio::ssl::stream_base::client, [this](const beast::error_code& ec) {
    if (ec) return fail(ec, "tls");
    write();
  });
}

void OpenAiCall::write() {
  parser_.emplace();
  // No limit: a stream's body is consumed and cleared as it arrives. (Not boost::none: Boost 1.74
  // compares a Content-Length against the optional, and every length exceeds "none".)
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  conn_->visit([this](auto& s) {
    http::async_write(s, req_, [this](const beast::error_code& ec, std::size_t) {
      if (ec && reused_ && !ended_ && cancel_reason().empty() && before_deadline()) return retry_fresh();
      if (ec) return fail(ec, "write");
      read_header();
    });
  });
}

void OpenAiCall::read_header() {
  conn_->visit([this](auto& s) {
    http::async_read_header(s, conn_->buffer, *parser_, [this](const beast::error_code& ec, std::size_t) {
      const TimeNs t = t_.host_.now_ns();  // timestamp on receipt, before any processing
      // A kept-alive connection the server closed while idle: one retry on a fresh connection.
      if (ec && reused_ && (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
                            ec == asio::error::eof) && cancel_reason().empty()) {
        return retry_fresh();
      }
      if (ec) return fail(ec, "read header");
      on_header(t);
    });
  });
}

void OpenAiCall::retry_fresh() {
  reused_ = false;
  conn_ = std::make_unique<HttpConnection>(loop_.io, t_.tls_ctx_ ? &*t_.tls_ctx_ : nullptr);
  connect();
}

void OpenAiCall::on_header(TimeNs t) {
  if (parser_->get().result_int() != 200) return read_whole(true);
  if (!t_.opts_.stream) return read_whole(false);
  on_message(t, MsgInfo{});  // the ack: the response has started, no output yet
  if (parser_->is_done()) return end(CallOutcome{}, false);  // no body at all
  on_stream_bytes(t, {});  // body bytes that came with the header, then the next read
}

// One socket read; the handler takes the timestamp before anything else. Plain HTTP reads the
// socket itself: beast::tcp_stream's per-operation layer (timeout and rate-limit bookkeeping, a
// work-tracked executor) costs more per event than the read, and no deadline uses it here.
void OpenAiCall::read_stream() {
  auto& buf = conn_->buffer;
  const auto into = buf.prepare(beast::read_size(buf, 65536));
  auto on_read = [this](const beast::error_code& ec, std::size_t n) {
    const TimeNs t = t_.host_.now_ns();  // timestamp on receipt, before any processing
    conn_->buffer.commit(n);
    on_stream_bytes(t, ec);
  };
  if (conn_->tls) conn_->tls->async_read_some(into, std::move(on_read));
  else conn_->plain->socket().async_read_some(into, std::move(on_read));
}

// Everything buffered so far: parsed (HTTP framing), its events handled, then the next read or the end.
void OpenAiCall::on_stream_bytes(TimeNs t, beast::error_code ec) {
  beast::error_code parse_ec;
  parse_buffered(parse_ec);
  consume_body(t);
  if (ended_) return;
  if (!parse_ec && ec == asio::error::eof) {
    // As Beast's read: the end of the connection completes a body that runs to it, else the
    // message is partial; end_of_stream when no byte of the answer came.
    if (parser_->got_some()) parser_->put_eof(parse_ec);
    else parse_ec = http::error::end_of_stream;
    if (!parse_ec) ec = {};
  }
  if (parse_ec) return fail(parse_ec, "read stream");
  if (ec) return fail(ec, "read stream");
  if (!parser_->is_done()) return read_stream();
  if (!done_seen_) set_protocol_error("SSE stream ended without data: [DONE]");
  CallOutcome o;
  o.code = 200;
  o.code_name = "200";
  end(o, parser_->keep_alive() && done_seen_);
}

// Runs the parser over the connection's buffer (every complete chunk; a partial one waits for
// more bytes); the chunks' data lands in the parser's body.
void OpenAiCall::parse_buffered(beast::error_code& ec) {
  auto& buf = conn_->buffer;
  parser_->eager(true);
  while (buf.size() > 0 && !parser_->is_done()) {
    const std::size_t used = parser_->put(buf.data(), ec);
    buf.consume(used);
    if (ec == http::error::need_more) {
      ec = {};
      return;
    }
    if (ec || used == 0) return;
  }
}

// Splits the body bytes received so far into SSE events and handles them; the body is cleared.
void OpenAiCall::consume_body(TimeNs t) {
  std::string& body = parser_->get().body();
  if (body.empty()) return;
  struct Sink final : SseSplitter::EventSink {  // NOLINT(cppcoreguidelines-virtual-class-destructor): as Collect (sse.cpp)
    Sink(OpenAiCall& c, TimeNs at) : call(c), t(at) {}
    bool on_event(std::string_view data) override { return call.handle_event(t, data); }
    OpenAiCall& call;
    TimeNs t;
  } sink(*this, t);
  const std::string err = sse_.feed(body, sink);
  body.clear();
  if (ended_) return;
  if (!err.empty()) {
    set_protocol_error(err);
    CallOutcome o;
    o.code_name = "protocol_error";
    end(o, false);
  }
}

// One SSE event's data. Returns false when the request ended (protocol error, in-stream error).
bool OpenAiCall::handle_event(TimeNs t, std::string_view data) {
  auto stop_with = [&](const std::string& protocol_error) {
    set_protocol_error(protocol_error);
    CallOutcome o;
    o.code_name = "protocol_error";
    end(o, false);
    return false;
  };
  if (done_seen_) return stop_with("SSE event after data: [DONE]");
  if (data == "[DONE]") {
    done_seen_ = true;
    MsgInfo m;
    m.cumulative_tokens = usage_completion_.value_or(chunks_);
    m.input_tokens = usage_prompt_.value_or(0);
    m.stop_reason = finish_reason_.empty() ? "unknown" : finish_reason_;
    return on_message(t, m) || stop_with("final token count below the streamed chunks");
  }
  OpenAiPiece p;
  const std::string bad = parse_openai_piece(data, t_.opts_.chat, true, p);
  if (!bad.empty()) return stop_with("SSE event: " + bad);
  if (!p.error.empty()) {
    CallOutcome o;
    o.ok = false;
    o.code = 200;
    o.code_name = "stream_error";
    o.error = "server error in stream: " + p.error;
    end(o, false);
    return false;
  }
  if (p.prompt_tokens) usage_prompt_ = p.prompt_tokens;
  if (p.completion_tokens) usage_completion_ = p.completion_tokens;
  if (!p.finish_reason.empty()) finish_reason_ = p.finish_reason;
  if (p.has_choice && !p.text.empty()) {
    ++chunks_;
    MsgInfo m;
    m.carries_output = true;
    // vLLM's continuous_usage_stats gives a cumulative count per chunk; otherwise one per chunk.
    m.cumulative_tokens = p.completion_tokens.value_or(chunks_);
    if (!on_message(t, m)) return stop_with("token count went backwards");
  }
  return true;
}

void OpenAiCall::read_whole(bool error_body) {
  conn_->visit([this, error_body](auto& s) {
    http::async_read(s, conn_->buffer, *parser_, [this, error_body](const beast::error_code& ec, std::size_t) {
      const TimeNs t = t_.host_.now_ns();  // timestamp on receipt, before any processing
      if (ec) return fail(ec, "read body");
      on_whole(t, error_body);
    });
  });
}

void OpenAiCall::on_whole(TimeNs t, bool error_body) {
  const auto& res = parser_->get();
  CallOutcome o;
  o.code = static_cast<int>(res.result_int());
  o.code_name = std::to_string(o.code);
  const bool keep = parser_->keep_alive();
  if (error_body) {
    o.ok = false;
    o.message = openai_error_message(res.body());
    o.error = fmt::format("HTTP {}: {}", o.code, o.message);
    const auto retry_after = res.find(http::field::retry_after);
    if (retry_after != res.end()) {
      const std::string value(retry_after->value().data(), retry_after->value().size());
      o.error += fmt::format(" (Retry-After: {})", value);
      o.retry_after_s = retry_after_seconds(value);
    }
    // 429 Too Many Requests and 503 Service Unavailable: the server refused the load.
    o.overload = o.code == 429 || o.code == 503;
    o.failure = o.overload ? RequestStatus::kRejected : RequestStatus::kError;
    return end(o, keep);
  }
  OpenAiPiece p;
  const std::string bad = parse_openai_piece(res.body(), t_.opts_.chat, false, p);
  if (!bad.empty()) {
    set_protocol_error("response body: " + bad);
    return end(o, false);
  }
  if (!p.error.empty()) {
    o.ok = false;
    o.error = "server error: " + p.error;
    return end(o, keep);
  }
  MsgInfo m;
  m.carries_output = !p.text.empty();
  m.cumulative_tokens = p.completion_tokens.value_or(0);
  m.input_tokens = p.prompt_tokens.value_or(0);
  m.stop_reason = p.finish_reason.empty() ? "unknown" : p.finish_reason;
  o.token_count_method = p.completion_tokens ? "usage" : "absent";
  on_single_response(t, m);
  end(o, keep);
}

void OpenAiCall::fail(const beast::error_code& ec, const char* stage) {
  if (ended_) return;
  CallOutcome o;
  o.ok = false;
  o.message = ec.message();
  const std::string why = cancel_reason();
  if (!why.empty()) {
    o.failure = RequestStatus::kUnfinished;
    o.code_name = "cancelled";
    o.error = "cancelled by runner: " + why;
  } else if (ec == beast::error::timeout || timed_out_ || !before_deadline()) {
    o.failure = RequestStatus::kTimeout;
    o.code_name = "timeout";
    o.error = fmt::format("timeout: no complete answer within {} s ({})", t_.cfg_.timeout_s, stage);
  } else if (std::string_view(stage) == "connect") {
    o.code_name = "connect_error";
    o.server_unavailable = true;
    o.error = "connect: " + ec.message();
  } else if (std::string_view(stage) == "tls") {
    o.code_name = "tls_error";
    o.error = "TLS handshake: " + ec.message();
  } else {
    // The server closed the connection (or it broke) before the answer was complete.
    o.code_name = "connection_closed";
    o.server_unavailable = ec == asio::error::connection_refused;
    o.error = fmt::format("connection closed during {}: {}", stage, ec.message());
  }
  end(o, false);
}

// Ends the request once: the connection goes back to the pool or is closed, the record to the core.
void OpenAiCall::end(CallOutcome o, bool keep_connection) {
  if (ended_) return;
  ended_ = true;
  if (watch_) loop_.deadlines.remove(*watch_);
  watch_.reset();
  if (o.token_count_method.empty() && t_.opts_.stream) o.token_count_method = usage_completion_ ? "usage" : "chunks";
  if (conn_) {
    if (keep_connection && cancel_reason().empty()) {
      loop_.idle.push_back(std::move(conn_));
    } else {
      beast::error_code ignored;
      conn_->lowest().socket().close(ignored);
      // Destroyed later: a handler of this connection may still be queued.
      asio::post(loop_.io, [c = std::shared_ptr<HttpConnection>(std::move(conn_))] {});
    }
  }
  on_done(o);
  // The handler that ended the request may still touch this object: drop the I/O's reference after it.
  asio::post(loop_.io, [this] { unref(); });
}

void OpenAiCall::abort_io() {
  ref();  // the posted handler runs after the core's reference is gone
  asio::post(loop_.io, [this] {
    if (conn_ && !ended_) {
      beast::error_code ignored;
      conn_->lowest().socket().close(ignored);
    }
    unref();
  });
}

// One GET /v1/models within `limit`: the response, or "" and a description in `error`.
std::string OpenAiTransport::get_models_once(std::chrono::steady_clock::duration limit,
                                             http::response<http::string_body>& res) {
  asio::io_context io;
  HttpConnection c(io, tls_ctx_ ? &*tls_ctx_ : nullptr);
  c.lowest().expires_after(limit);
  http::request<http::empty_body> req{http::verb::get, "/v1/models", 11};
  req.set(http::field::host, target_.host);
  req.set(http::field::user_agent, "servetwin-load");
  if (!cfg_.api_key.empty()) req.set(http::field::authorization, "Bearer " + cfg_.api_key);
  std::string error = "no answer";
  auto exchange = [&] {
    c.visit([&](auto& s) {
      http::async_write(s, req, [&](const beast::error_code& ec, std::size_t) {
        if (ec) return void(error = "write: " + ec.message());
        http::async_read(s, c.buffer, res, [&](const beast::error_code& ec2, std::size_t) {
          error = ec2 ? "read: " + ec2.message() : std::string();
        });
      });
    });
  };
  tcp::resolver resolver(io);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(target_.host, target_.port, ec);
  if (ec) return "resolve " + target_.host + ": " + ec.message();
  c.lowest().async_connect(endpoints, [&](const beast::error_code& ec2, const tcp::endpoint&) {
    if (ec2) return void(error = "connect: " + ec2.message());
    if (!c.tls) return exchange();
    set_sni(*c.tls, target_.host);
    if (!cfg_.tls_insecure) c.tls->set_verify_callback(asio::ssl::host_name_verification(target_.host));
    c.tls->async_handshake(asio::ssl::stream_base::client, [&](const beast::error_code& ec3) {
      if (ec3) return void(error = "TLS handshake: " + ec3.message());
      exchange();
    });
  });
  io.run();
  return error;
}

nlohmann::json OpenAiTransport::wait_until_ready() {
  return retry_until_ready(cfg_, "GET /v1/models", [this](std::chrono::steady_clock::duration limit,
                                                          std::string& last) -> nlohmann::json {
    http::response<http::string_body> res;
    last = get_models_once(limit, res);
    if (!last.empty()) return nullptr;
    if (res.result_int() == 404) {
      // An HTTP server without the OpenAI API (e.g. a gRPC server's metrics port): load would only fail.
      throw ProtocolMismatchError(fmt::format(
          "readiness check: {} answers HTTP 404 to GET /v1/models: it does not serve --protocol {} (check "
          "--protocol and --target; allowed: tgis, caikit, openai-completions, openai-chat)",
          cfg_.target, to_string(cfg_.protocol)));
    }
    if (res.result_int() != 200) {
      last = fmt::format("HTTP {}: {}", res.result_int(), openai_error_message(res.body()));
      return nullptr;
    }
    const auto j = nlohmann::json::parse(res.body(), nullptr, false);
    nlohmann::json models = nlohmann::json::array();
    if (!j.is_discarded() && j.contains("data") && j["data"].is_array()) {
      for (const auto& m : j["data"]) {
        if (m.is_object() && m.contains("id") && m["id"].is_string()) models.push_back(m["id"]);
      }
    }
    if (opts_.model.empty() && !models.empty()) opts_.model = models[0].get<std::string>();
    return {{"request", "GET /v1/models"}, {"models", models}};
  });
}

}  // namespace

std::unique_ptr<Transport> make_openai_transport(const LoadConfig& cfg, RequestHost& host) {
  return std::make_unique<OpenAiTransport>(cfg, host);
}

}  // namespace servetwin::live
