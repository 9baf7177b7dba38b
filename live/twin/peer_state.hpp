#pragma once
// Watching a connection for its client going away while the twin's HTTP server answers a request
// (http_server.cpp). A readiness wake-up alone does not say the client closed: with several
// server threads, a readiness event one thread harvested before the request was read (the request
// bytes that came with a new connection, say) can complete a wait armed after the read took them,
// with nothing left to read. Taken for a close, that cut a few requests per 5,000 (issue 16).
#include <boost/asio/ip/tcp.hpp>
#include <functional>

namespace servetwin::live {

enum class PeerReadState {
  kNothing,  // no byte and no end: a stale wake-up
  kData,     // bytes are waiting (a pipelined request)
  kClosed,   // the peer shut down its side (recv returns 0) or the socket has an error
};

// One non-blocking recv with MSG_PEEK on `fd`: consumes nothing.
PeerReadState peek_peer(int fd);

// Waits for `s` to become readable; on each wake-up, first asks `wanted` (false: the watch ends,
// e.g. the answer it guarded is complete; it also keeps the socket's owner alive), then calls
// `gone` on an error or the peer's close, waits again when there is nothing to read, and ends
// when data waits (left for the next read).
void watch_for_close(boost::asio::ip::tcp::socket& s, std::function<bool()> wanted, std::function<void()> gone);

}  // namespace servetwin::live
