// The twin's watch for a client going away (live/twin/peer_state.*, used by http_server.cpp): a
// readiness wake-up with nothing to read is not a close. Taking it for one cut requests at random
// (the likely cause of issue 16's stray OpenAI errors, 0-4 of ~5,370 requests per bench run on an
// idle machine, none under load, none over gRPC); these tests provoke such a wake-up
// deterministically and check the watch and peek_peer.
#pragma GCC diagnostic ignored "-Wnull-dereference"  // Boost 1.74 asio false positive at -O3 (see http_server.cpp)
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <string>
#include <vector>

#include "live/twin/peer_state.hpp"
#include "live/twin/twin_server.hpp"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using live::peek_peer;
using live::PeerReadState;

struct ConnectedPair {
  net::io_context io{1};
  tcp::acceptor acceptor{io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  net::io_context client_io;
  tcp::socket client{client_io};
  tcp::socket server{io};
  // The client connects and sends `request` before the server accepts (as 1,000 streams
  // starting at once do): the accepted socket is readable from the moment it is registered.
  explicit ConnectedPair(const std::string& request) {
    client.connect(acceptor.local_endpoint());
    if (!request.empty()) net::write(client, net::buffer(request));
    server = acceptor.accept();
  }
};

// The sequence of the cut requests, on one thread: the reactor harvests the new socket's
// readiness, the server then reads the request (as Beast's read does, speculatively, without
// waiting for the reactor) and arms the watch, and the readiness harvested before the read
// completes the watch's wait with the socket drained and the client still there. The old watch
// took that for a close (nothing available); watch_for_close must wait on, then see the real close.
TEST(TwinDisconnectWatch, StaleReadinessIsNotAClose) {
  const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
  ConnectedPair p(request);
  int wakes = 0, gone = 0;
  // Queued behind the reactor's first poll, which finds the accepted socket readable.
  net::post(p.io, [&] {
    std::string got(request.size(), '\0');
    net::read(p.server, net::buffer(got));  // the request is read; the socket is empty now
    ASSERT_EQ(got, request);
    live::watch_for_close(p.server, [&] { return ++wakes > 0; }, [&] { ++gone; });
  });
  p.io.run_for(std::chrono::milliseconds(300));
  p.io.restart();
  // The premise: this Asio completes the wait with the stale readiness, with nothing to read.
  ASSERT_GE(wakes, 1) << "no stale wake-up: the sequence did not happen";
  EXPECT_EQ(p.server.available(), 0U);
  EXPECT_EQ(gone, 0) << "a stale wake-up was taken for the client's close";
  p.client.shutdown(tcp::socket::shutdown_send);  // now the client goes
  p.io.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(gone, 1);
}

TEST(TwinDisconnectWatch, PeekTellsNothingDataAndClose) {
  ConnectedPair p("");
  const int fd = p.server.native_handle();
  EXPECT_EQ(peek_peer(fd), PeerReadState::kNothing);
  net::write(p.client, net::buffer(std::string("next request")));
  // Loopback delivers within the write; the peek consumes nothing.
  EXPECT_EQ(peek_peer(fd), PeerReadState::kData);
  EXPECT_EQ(peek_peer(fd), PeerReadState::kData);
  EXPECT_EQ(p.server.available(), 12U);
  std::string drain(12, '\0');
  net::read(p.server, net::buffer(drain));
  p.client.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(peek_peer(fd), PeerReadState::kClosed);
}

TEST(TwinDisconnectWatch, ResetIsAClose) {
  ConnectedPair p("");
  p.client.set_option(net::socket_base::linger(true, 0));  // close sends RST
  p.client.close();
  EXPECT_EQ(peek_peer(p.server.native_handle()), PeerReadState::kClosed);
}

// At the twin: streams that connect and send at once (as the bench's 1,000 do), each on a fresh
// connection written before the twin accepts it, all get their whole answer and none is
// cancelled. The race needs both server threads running at once (an idle 2-core machine), so this
// catches it only sometimes; StaleReadinessIsNotAClose provokes its sequence deterministically.
TEST(TwinDisconnectWatch, StreamsThatConnectAndSendAtOnceAllComplete) {
  live::TwinOptions o;
  o.front_end = live::TwinFrontEnd::kOpenai;
  o.model_name = "m";
  live::TwinServer twin(o, fake_factory(bench_stream_params(64, 2 * kNsPerMs, true)));
  const int port = twin.start();
  const std::string body = R"({"prompt":"abcdefgh","max_tokens":3,"ignore_eos":true,"stream":true})";
  const std::string request = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  constexpr int kStreams = 64;
  net::io_context io;
  std::vector<tcp::socket> sockets;
  for (int i = 0; i < kStreams; ++i) {
    sockets.emplace_back(io).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    net::write(sockets.back(), net::buffer(request));
  }
  int complete = 0;
  for (auto& s : sockets) {
    std::string raw;
    std::array<char, 4096> buf{};
    boost::system::error_code ec;
    while (!ec && raw.find("0\r\n\r\n") == std::string::npos) raw.append(buf.data(), s.read_some(net::buffer(buf), ec));
    complete += raw.find("data: [DONE]") != std::string::npos;
  }
  EXPECT_EQ(complete, kStreams);
  EXPECT_EQ(twin.stats().cancelled, 0);
}

}  // namespace
}  // namespace servetwin::testing
