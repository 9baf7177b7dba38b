#include "live/common/http_get.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace servetwin::live {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

namespace {

// Asynchronous operations under the hood: beast::tcp_stream applies its expiry only to those, so a
// server that accepts and never answers costs `timeout_s`, not a hung thread.
HttpGetResult exchange(http::request<http::string_body> req, const std::string& host, const std::string& port,
                       double timeout_s) {
  HttpGetResult out;
  boost::asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64U << 20U);  // a /metrics page with many histograms stays far below this
  req.set(http::field::host, host);
  req.set(http::field::user_agent, "servetwin");
  req.prepare_payload();
  beast::error_code ec;
  const auto endpoints = resolver.resolve(host, port, ec);
  if (ec) {
    out.error = "resolve " + host + ": " + ec.message();
    return out;
  }
  stream.expires_after(std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000)));
  stream.async_connect(endpoints, [&](const beast::error_code& e1, const tcp::endpoint&) {
    if (e1) return void(out.error = "connect: " + e1.message());
    http::async_write(stream, req, [&](const beast::error_code& e2, std::size_t) {
      if (e2) return void(out.error = "write: " + e2.message());
      http::async_read(stream, buffer, parser, [&](const beast::error_code& e3, std::size_t) {
        if (e3) return void(out.error = "read: " + e3.message());
        out.status = static_cast<int>(parser.get().result_int());
        out.body = std::move(parser.get().body());
      });
    });
  });
  ioc.run();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

}  // namespace

HttpGetResult http_get(const std::string& host, const std::string& port, const std::string& path, double timeout_s) {
  return exchange(http::request<http::string_body>{http::verb::get, path, 11}, host, port, timeout_s);
}

HttpGetResult http_post_json(const std::string& host, const std::string& port, const std::string& path,
                             const std::string& json_body,
                             const std::vector<std::pair<std::string, std::string>>& headers, double timeout_s) {
  http::request<http::string_body> req{http::verb::post, path, 11};
  req.set(http::field::content_type, "application/json");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = json_body;
  return exchange(std::move(req), host, port, timeout_s);
}

}  // namespace servetwin::live
