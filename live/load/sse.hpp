#pragma once
// A server-sent events splitter (the WHATWG "event stream" format, as OpenAI-compatible servers
// stream completions): bytes in, complete events' `data` out. Pure: no I/O, no clock, so it can be
// fed any split of a stream (tests feed it byte by byte) and fuzzed.
//
// Lines end with "\n", "\r\n" or "\r" (a "\r" at the end of one feed and "\n" at the start of the
// next are one line end). A blank line ends an event; its `data:` lines are joined with "\n".
// Comments (":" first) and the fields `event`, `id`, `retry` are accepted and ignored. Any other
// line is malformed: OpenAI-compatible servers send none, and ignoring one (as a browser would)
// could drop tokens silently.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace servetwin::live {

class SseSplitter {
 public:
  // Receives each completed event's data (a view valid during the call only); returns false to
  // stop feeding (the rest of the bytes is dropped: the caller's stream has ended).
  class EventSink {
   public:
    virtual bool on_event(std::string_view data) = 0;

   protected:
    ~EventSink() = default;
  };
  // Hands the data of every event completed by `bytes` to `sink`, in order. Returns "" or, for the
  // first malformed line, a description (the splitter then stays failed: later feeds return it
  // again). A line that `bytes` holds whole is not copied; the buffers keep their capacity, so a
  // stream of events costs no allocation once they have grown.
  std::string feed(std::string_view bytes, EventSink& sink);
  // The same, appending each event's data to `events`.
  std::string feed(std::string_view bytes, std::vector<std::string>& events);
  // True when bytes of an unfinished line or event are buffered (a stream that ends here was cut).
  [[nodiscard]] bool pending() const { return !line_.empty() || has_data_; }

 private:
  // One complete line (without its end). Returns "" or the malformed-line error; `go_on` false
  // when the sink asked to stop.
  std::string take_line(std::string_view line, EventSink& sink, bool& go_on);
  std::string line_;   // the current, unfinished line
  std::string data_;   // the current event's data so far
  bool has_data_ = false;
  bool after_cr_ = false;  // the last byte fed was "\r"
  std::string error_;
};

}  // namespace servetwin::live
