#include "live/twin/http_chunk_send.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>

namespace servetwin::live {

namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";  // Beast's chunk_last without trailers

// A chunk's size line: lowercase hex and CRLF, as Beast's chunk header writes it.
class SizeLine {
 public:
  explicit SizeLine(std::size_t n) {
    begin_ = buf_.size() - kCrlf.size();
    buf_[begin_] = '\r';
    buf_[begin_ + 1] = '\n';
    do {
      buf_[--begin_] = "0123456789abcdef"[n & 0xFU];
      n >>= 4U;
    } while (n != 0);
  }
  [[nodiscard]] std::string_view view() const { return {buf_.data() + begin_, buf_.size() - begin_}; }

 private:
  std::array<char, 24> buf_{};
  std::size_t begin_ = 0;
};

}  // namespace

std::string chunked_response_header(unsigned status, const std::string& content_type, unsigned version,
                                    bool keep_alive) {
  http::response<http::empty_body> msg{static_cast<http::status>(status), version};
  msg.set(http::field::content_type, content_type);
  msg.keep_alive(keep_alive);
  msg.chunked(true);
  http::response_serializer<http::empty_body> sr{msg};
  sr.split(true);  // the header only: the chunks follow as the tokens come
  std::string out;
  beast::error_code ec;
  do {
    sr.next(ec, [&](beast::error_code& e, const auto& buffers) {
      e = {};
      for (const auto b : beast::buffers_range_ref(buffers)) out.append(static_cast<const char*>(b.data()), b.size());
      sr.consume(beast::buffer_bytes(buffers));
    });
  } while (!ec && !sr.is_header_done());
  return out;
}

bool send_chunk_now(int fd, std::string_view prefix, std::string_view data, bool last, std::string& unsent) {
  const SizeLine size(data.size());
  std::array<std::string_view, 5> pieces;
  std::size_t n = 0;
  auto add = [&](std::string_view p) {
    if (!p.empty()) pieces.at(n++) = p;
  };
  add(prefix);
  if (!data.empty()) {  // an empty chunk would read as the last one
    add(size.view());
    add(data);
    add(kCrlf);
  }
  if (last) add(kLastChunk);
  std::array<iovec, 5> iov{};
  for (std::size_t i = 0; i < n; ++i) iov.at(i) = {const_cast<char*>(pieces.at(i).data()), pieces.at(i).size()};
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = n;
  const ssize_t sent = n == 0 ? 0 : ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  const bool ok = sent >= 0 || errno == EAGAIN || errno == EWOULDBLOCK;
  auto skip = static_cast<std::size_t>(sent > 0 ? sent : 0);
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view p = pieces.at(i);
    if (skip >= p.size()) {
      skip -= p.size();
      continue;
    }
    unsent.append(p.substr(skip));
    skip = 0;
  }
  return ok;
}

}  // namespace servetwin::live
