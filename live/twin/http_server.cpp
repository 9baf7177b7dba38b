#include "live/twin/http_server.hpp"

// Asio's scheduler (Boost 1.74) trips GCC's -Wnull-dereference once inlined here at -O3 (a
// false positive inside boost/asio/detail/impl/scheduler.ipp); the rest of the warnings stay on.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "live/twin/http_chunk_send.hpp"
#include "live/twin/peer_state.hpp"
#include "live/twin/twin_server.hpp"

namespace servetwin::live {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::uint64_t kMaxBodyBytes = 64ULL << 20U;  // far above any prompt the twin accepts

class Session;

// The answer to one request. A streamed event goes out from the producer's thread (the engine's
// driver) in one non-blocking sendmsg while no write of the session's strand is queued or in
// flight (http_chunk_send.hpp); otherwise producers fill an outbox under mu_ and the strand drains
// it with one write in flight at a time, so many tokens queued between two writes go out in one
// chunk (what an ASGI server does under load, too). The strand owns the socket's write side from
// schedule() until a pump finds nothing left to write; a direct send takes mu_ and happens only
// while the strand does not own it, and never after the exchange closed (the socket's fd is closed
// only after that, under mu_, so a direct send never reaches a closed or reused fd).
class Exchange final : public HttpExchange, public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<Session> s, int fd, unsigned version, bool keep_alive)
      : session_(std::move(s)), fd_(fd), version_(version), keep_alive_(keep_alive) {}

  void reply(HttpReply r) override {
    std::lock_guard lk(mu_);
    if (full_ || began_) return;
    full_ = std::move(r);
    schedule();
  }
  void stream_begin(unsigned status, std::string content_type) override {
    std::lock_guard lk(mu_);
    if (full_ || began_) return;
    began_ = true;
    header_ = chunked_response_header(status, content_type, version_, keep_alive_);
  }
  void stream_send(const std::string& data) override {
    std::lock_guard lk(mu_);
    if (!began_ || end_ || data.empty()) return;
    if (send_direct(data, false)) return;
    pending_ += data;
    schedule();
  }
  void stream_finish(const std::string& data) override {
    std::lock_guard lk(mu_);
    if (!began_ || end_) return;
    end_ = true;
    // Either way the strand completes the exchange (and reads the connection's next request).
    if (send_direct(data, true)) end_sent_ = true;
    else pending_ += data;
    schedule();
  }
  void on_disconnect(std::function<void()> f) override {
    std::lock_guard lk(mu_);
    on_disconnect_ = std::move(f);
  }

  // Strand only.
  void pump();
  void client_gone();

 private:
  void schedule();  // mu_ held
  // mu_ held. Sends the header (if not out yet), `data` as a chunk and, when `last`, the last
  // chunk, from this thread; false when the strand owns the socket (nothing was sent).
  bool send_direct(const std::string& data, bool last);
  void finished(beast::error_code ec);
  void write_then_pump(net::const_buffer b);

  std::shared_ptr<Session> session_;
  int fd_;  // the session's socket, for direct sends
  unsigned version_;
  bool keep_alive_;

  std::mutex mu_;
  std::optional<HttpReply> full_;
  bool began_ = false, end_ = false, scheduled_ = false;
  bool strand_owns_ = false;  // a pump is queued or a strand write is in flight
  bool closed_ = false;       // no more writes: the client went away or the answer is complete
  bool header_out_ = false;   // the stream's header was sent (or is in raw_)
  bool end_sent_ = false;     // the last chunk was sent (or is in raw_)
  std::string header_;        // the stream's header bytes
  std::string pending_;       // event data not yet framed
  std::string raw_;           // framed bytes a direct send left over
  std::function<void()> on_disconnect_;

  // Strand-only state.
  bool writing_ = false, done_ = false;
  std::string wbuf_;
  std::unique_ptr<http::response<http::string_body>> full_msg_;
};

class Session final : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpHandler& handler) : stream_(std::move(socket)), handler_(handler) {}

  void start() {
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);  // SSE events must not wait for Nagle
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
  }
  beast::tcp_stream& stream() { return stream_; }
  [[nodiscard]] net::any_io_executor executor() { return stream_.get_executor(); }

  // The current answer is complete (strand).
  void response_done(beast::error_code ec, bool keep_alive) {
    current_.reset();
    if (ec) {
      close();
      return;
    }
    if (!keep_alive) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    read();
  }
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }
  // The server stopped with this session's answer pending: drop the session's side of the
  // session <-> exchange reference cycle (current_ <-> Exchange::session_), which response_done
  // would have dropped, so both are freed once the io_context's queued handlers and the engine let
  // go (LeakSanitizer and valgrind found one such session per stop with a request in flight).
  // Called only after the io_context's threads have been joined: nothing else touches current_.
  void abandon() { current_.reset(); }

 private:
  // Header first: a client that sends `Expect: 100-continue` (curl does for bodies over 1 KiB)
  // waits for the interim answer before it sends the body.
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    http::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->on_read(ec);
      if (beast::iequals(self->parser_->get()[http::field::expect], "100-continue")) {
        self->continue_msg_.emplace(http::status::continue_, self->parser_->get().version());
        http::async_write(self->stream_, *self->continue_msg_, [self](beast::error_code wec, std::size_t) {
          if (wec) return self->on_read(wec);
          self->read_body();
        });
        return;
      }
      self->read_body();
    });
  }
  void read_body() {
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_read(ec);
    });
  }
  void on_read(beast::error_code ec) {
    if (ec) {
      if (ec != http::error::end_of_stream) close();
      return;
    }
    const auto& req = parser_->get();
    HttpRequestView v;
    v.method = std::string(req.method_string());
    v.target = std::string(req.target());
    v.body = req.body();
    v.content_type = std::string(req[http::field::content_type]);
    v.x_request_id = std::string(req["x-request-id"]);
    current_ = std::make_shared<Exchange>(shared_from_this(), stream_.socket().native_handle(), req.version(),
                                          req.keep_alive());
    watch_disconnect(current_);
    handler_(v, current_);
  }
  // While an answer is pending, the client closing the socket ends it (peer_state.hpp: a
  // wake-up with nothing to read is not a close; a pipelined request is left for the next read).
  void watch_disconnect(const std::shared_ptr<Exchange>& ex) {
    watch_for_close(
        stream_.socket(),
        [self = shared_from_this(), weak = std::weak_ptr<Exchange>(ex)] {
          const auto pending = weak.lock();
          return pending && pending == self->current_;
        },
        [self = shared_from_this()] {
          if (const auto pending = self->current_) pending->client_gone();  // a copy: client_gone resets current_
        });
  }

  beast::tcp_stream stream_;
  const HttpHandler& handler_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_msg_;
  std::shared_ptr<Exchange> current_;
};

void Exchange::schedule() {
  strand_owns_ = true;
  if (scheduled_) return;
  scheduled_ = true;
  net::post(session_->executor(), [self = shared_from_this()] { self->pump(); });
}

bool Exchange::send_direct(const std::string& data, bool last) {
  if (strand_owns_ || closed_) return false;
  const std::string_view prefix = header_out_ ? std::string_view() : std::string_view(header_);
  header_out_ = true;
  if (!send_chunk_now(fd_, prefix, data, last, raw_) || !raw_.empty()) schedule();  // the strand writes the rest
  return true;
}

void Exchange::client_gone() {
  if (done_) return;
  done_ = true;
  std::function<void()> f;
  {
    std::lock_guard lk(mu_);
    f = std::move(on_disconnect_);
    on_disconnect_ = nullptr;
    end_ = true;  // accept nothing more
    closed_ = true;
  }
  if (f) f();
  session_->response_done(net::error::connection_reset, false);
}

void Exchange::finished(beast::error_code ec) {
  writing_ = false;
  if (ec) {
    client_gone();
    return;
  }
  done_ = true;
  {
    std::lock_guard lk(mu_);
    closed_ = true;
  }
  session_->response_done(ec, keep_alive_);
}

void Exchange::write_then_pump(net::const_buffer b) {
  writing_ = true;
  net::async_write(session_->stream(), b, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->writing_ = false;
    if (ec) return self->client_gone();
    self->pump();
  });
}

void Exchange::pump() {
  std::unique_lock lk(mu_);
  scheduled_ = false;
  if (writing_ || done_) return;
  auto self = shared_from_this();
  auto& stream = session_->stream();
  if (full_ && !full_msg_) {
    full_msg_ = std::make_unique<http::response<http::string_body>>(static_cast<http::status>(full_->status), version_);
    if (!full_->content_type.empty()) full_msg_->set(http::field::content_type, full_->content_type);
    for (const auto& [k, v] : full_->headers) full_msg_->set(k, v);
    full_msg_->body() = std::move(full_->body);
    full_msg_->keep_alive(keep_alive_);
    full_msg_->prepare_payload();
    lk.unlock();
    writing_ = true;
    http::async_write(stream, *full_msg_, [self](beast::error_code ec, std::size_t) { self->finished(ec); });
    return;
  }
  if (!began_) {
    strand_owns_ = false;
    return;
  }
  // Order on the wire: what a direct send left over, the header, the queued events, the last chunk.
  if (!raw_.empty() || (!header_out_ && !header_.empty())) {
    wbuf_.clear();
    if (!header_out_) wbuf_.swap(header_);
    wbuf_ += raw_;
    raw_.clear();
    header_out_ = true;
    lk.unlock();
    return write_then_pump(net::buffer(wbuf_));
  }
  if (!pending_.empty()) {
    wbuf_.clear();
    wbuf_.swap(pending_);
    lk.unlock();
    writing_ = true;
    net::async_write(stream, http::make_chunk(net::buffer(wbuf_)), [self](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) return self->client_gone();
      self->pump();
    });
    return;
  }
  if (end_ && !end_sent_) {
    end_sent_ = true;
    lk.unlock();
    writing_ = true;
    net::async_write(stream, http::make_chunk_last(), [self](beast::error_code ec, std::size_t) { self->finished(ec); });
    return;
  }
  if (end_sent_) {  // the last chunk went out directly: the answer is complete
    lk.unlock();
    return finished({});
  }
  strand_owns_ = false;  // nothing to write: direct sends may go ahead
}

}  // namespace

struct HttpServer::Impl {
  std::string listen;
  bool reuse_port = false;
  int threads = 2;
  HttpHandler handler;
  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> pool;
  std::mutex stop_mu;
  bool stopped = false;
  // Every session accepted, for stop() to break their reference cycles (Session::abandon); expired
  // entries are pruned whenever the list has doubled, so it stays within twice the live sessions.
  std::vector<std::weak_ptr<Session>> sessions;
  std::size_t sessions_after_prune = 0;

  void accept() {
    acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec) return;  // acceptor closed
      auto session = std::make_shared<Session>(std::move(s), handler);
      remember(session);
      session->start();
      accept();
    });
  }
  void remember(const std::shared_ptr<Session>& s) {
    std::lock_guard lk(stop_mu);
    if (sessions.size() >= 2 * std::max<std::size_t>(sessions_after_prune, 64)) {
      std::erase_if(sessions, [](const std::weak_ptr<Session>& w) { return w.expired(); });
      sessions_after_prune = sessions.size();
    }
    sessions.push_back(s);
  }
};

HttpServer::HttpServer(std::string listen, bool reuse_port, int threads, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->listen = std::move(listen);
  impl_->reuse_port = reuse_port;
  impl_->threads = std::max(1, threads);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::start() {
  Impl& I = *impl_;
  const auto colon = I.listen.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("listen address '" + I.listen + "' has no :PORT");
  std::string host = I.listen.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const auto port = static_cast<unsigned short>(std::stoi(I.listen.substr(colon + 1)));
  const tcp::endpoint ep(net::ip::make_address(host), port);
  I.acceptor.emplace(I.ioc);
  I.acceptor->open(ep.protocol());
  I.acceptor->set_option(net::socket_base::reuse_address(true));  // TIME_WAIT only; never a live listener
  if (I.reuse_port) {
    const int one = 1;
    ::setsockopt(I.acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  }
  beast::error_code ec;
  I.acceptor->bind(ep, ec);
  if (ec == net::error::address_in_use) {
    throw PortInUseError("port " + std::to_string(port) + " on " + host +
                         " is already in use (another server listens there; pick another --listen port)");
  }
  if (ec) throw std::runtime_error("cannot bind " + I.listen + ": " + ec.message());
  I.acceptor->listen(net::socket_base::max_listen_connections);
  const int bound = I.acceptor->local_endpoint().port();
  I.accept();
  for (int i = 0; i < I.threads; ++i) I.pool.emplace_back([&I] { I.ioc.run(); });
  return bound;
}

void HttpServer::stop() {
  Impl& I = *impl_;
  {
    std::lock_guard lk(I.stop_mu);
    if (I.stopped) return;
    I.stopped = true;
  }
  I.ioc.stop();
  for (auto& t : I.pool) t.join();
  I.pool.clear();
  std::vector<std::weak_ptr<Session>> sessions;
  {
    std::lock_guard lk(I.stop_mu);
    sessions.swap(I.sessions);
  }
  for (const auto& w : sessions) {
    if (const auto s = w.lock()) s->abandon();
  }
  if (I.acceptor) {
    beast::error_code ignored;
    I.acceptor->close(ignored);
  }
}

}  // namespace servetwin::live
