#pragma once
// HTTP/1.1 chunked framing written straight to a socket: the twin's streaming fast path
// (http_server.cpp). A token's SSE event goes out from the thread that produced it, in one
// non-blocking sendmsg, instead of being handed to a server thread (a post, a wake-up and a
// context switch per event). The bytes are the ones Beast writes for the same answer (tested).
#include <string>
#include <string_view>

namespace servetwin::live {

// The header Beast writes for a chunked response (status line, Content-Type, Transfer-Encoding:
// chunked, Connection where the version and keep-alive need it, blank line).
std::string chunked_response_header(unsigned status, const std::string& content_type, unsigned version,
                                    bool keep_alive);

// Writes `prefix` (raw bytes: a header, or nothing), then `data` as one chunk (none when empty),
// then the last chunk when `last`, with one non-blocking sendmsg on `fd`. What the socket did not
// take (all of it after EAGAIN or an error) is appended to `unsent`, as it would have gone out.
// Returns false on a socket error other than EAGAIN (the caller's next write reports it).
bool send_chunk_now(int fd, std::string_view prefix, std::string_view data, bool last, std::string& unsent);

}  // namespace servetwin::live
