// The twin's streaming bytes on the wire: the chunk framing and header its direct-send path writes
// (live/twin/http_chunk_send.*) are the bytes Beast writes for the same answer, and a streamed
// completion read raw off the socket is the exact header, then well-formed chunks, each holding
// whole SSE events, then the last chunk.
#pragma GCC diagnostic ignored "-Wnull-dereference"  // Boost 1.74 asio false positive at -O3 (see http_server.cpp)
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "live/twin/http_chunk_send.hpp"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

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
  live::TwinOptions o;
  o.front_end = live::TwinFrontEnd::kOpenai;
  o.model_name = "m";
  live::TwinServer twin(o, fake_factory());
  const int port = twin.start();
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
  twin.shutdown(0);
}

}  // namespace
}  // namespace servetwin::testing
