#pragma once
// A small HTTP/1.1 keep-alive server on Boost.Beast/Asio for the twin: the OpenAI front end and
// the gRPC twin's side /metrics port. Beast parses and serializes HTTP; this file only routes a
// request to a handler and carries its answer back, whole or as a chunked stream (SSE).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace servetwin::live {

struct HttpRequestView {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string body;
  std::string content_type;
  std::string x_request_id;
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// One request's answer. Thread-safe: the engine's driver thread answers most requests. Either
// reply() once, or stream_begin() then stream_send()* then stream_finish(). The stream's header
// goes out with its first data; each stream_send() is one HTTP chunk, written at once from the
// calling thread when the connection is idle (when it is behind, the data queued meanwhile goes
// out together, in one chunk).
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  virtual void reply(HttpReply r) = 0;
  virtual void stream_begin(unsigned status, std::string content_type) = 0;
  virtual void stream_send(const std::string& data) = 0;
  // Sends `data` (if any) as the last chunk with data, then ends the stream.
  virtual void stream_finish(const std::string& data) = 0;
  // Called once (on a server thread) if the client goes away before the answer is complete.
  virtual void on_disconnect(std::function<void()> f) = 0;
};

using HttpHandler = std::function<void(const HttpRequestView& req, const std::shared_ptr<HttpExchange>& ex)>;

class HttpServer {
 public:
  // `listen` is a loopback HOST:PORT (port 0 = any free one). Without reuse_port a port another
  // socket holds is a PortInUseError (twin_server.hpp).
  HttpServer(std::string listen, bool reuse_port, int threads, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int start();  // binds and starts the threads; returns the bound port
  void stop();  // closes the listener and every connection, joins the threads (idempotent)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace servetwin::live
