#include "live/twin/peer_state.hpp"

// Boost 1.74's Asio trips GCC's -Wnull-dereference once inlined at -O3 (see http_server.cpp).
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include <sys/socket.h>

#include <cerrno>

namespace servetwin::live {

PeerReadState peek_peer(int fd) {
  char byte = 0;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return PeerReadState::kData;
  if (n == 0) return PeerReadState::kClosed;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return PeerReadState::kNothing;
  return PeerReadState::kClosed;  // ECONNRESET and the like: the client is gone too
}

void watch_for_close(boost::asio::ip::tcp::socket& s, std::function<bool()> wanted, std::function<void()> gone) {
  s.async_wait(boost::asio::ip::tcp::socket::wait_read,
               [&s, wanted = std::move(wanted), gone = std::move(gone)](const boost::system::error_code& ec) mutable {
                 if (!wanted()) return;
                 if (ec) return gone();
                 switch (peek_peer(s.native_handle())) {
                   case PeerReadState::kClosed: return gone();
                   case PeerReadState::kNothing: return watch_for_close(s, std::move(wanted), std::move(gone));
                   case PeerReadState::kData: return;
                 }
               });
}

}  // namespace servetwin::live
