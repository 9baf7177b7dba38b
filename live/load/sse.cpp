#include "live/load/sse.hpp"

#include <cstring>

namespace servetwin::live {

namespace {

// The index of the first "\n" or "\r" at or after `from`, or bytes.size().
std::size_t line_end(std::string_view bytes, std::size_t from) {
  const char* begin = bytes.data() + from;
  const std::size_t n = bytes.size() - from;
  const auto* lf = static_cast<const char*>(std::memchr(begin, '\n', n));
  const std::size_t span = lf != nullptr ? static_cast<std::size_t>(lf - begin) : n;
  const auto* cr = static_cast<const char*>(std::memchr(begin, '\r', span));
  return from + (cr != nullptr ? static_cast<std::size_t>(cr - begin) : span);
}

}  // namespace

std::string SseSplitter::feed(std::string_view bytes, EventSink& sink) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (!error_.empty()) return error_;
    const char c = bytes[i];
    if (c == '\n' && after_cr_) {  // the second half of a "\r\n" line end
      after_cr_ = false;
      ++i;
      continue;
    }
    // Whole runs of line bytes at once (one event is ~300 bytes): the next "\n", then any "\r"
    // before it (two memchr; find_first_of would search its set once per byte).
    const std::size_t end = line_end(bytes, i);
    if (end == bytes.size()) {
      line_.append(bytes.substr(i));
      after_cr_ = false;
      return error_;
    }
    after_cr_ = bytes[end] == '\r';
    bool go_on = true;
    if (line_.empty()) {
      error_ = take_line(bytes.substr(i, end - i), sink, go_on);  // straight from the input
    } else {
      line_.append(bytes.substr(i, end - i));
      error_ = take_line(line_, sink, go_on);
      line_.clear();
    }
    i = end + 1;
    if (!go_on) return error_;
  }
  return error_;
}

std::string SseSplitter::feed(std::string_view bytes, std::vector<std::string>& events) {
  struct Collect final : EventSink {  // NOLINT(cppcoreguidelines-virtual-class-destructor): final; EventSink's destructor is protected
    explicit Collect(std::vector<std::string>& e) : out(e) {}
    bool on_event(std::string_view data) override {
      out.emplace_back(data);
      return true;
    }
    std::vector<std::string>& out;
  } collect(events);
  return feed(bytes, collect);
}

std::string SseSplitter::take_line(std::string_view line, EventSink& sink, bool& go_on) {
  if (line.empty()) {  // blank line: dispatch the event (one without data is dropped, per the format)
    if (has_data_) go_on = sink.on_event(data_);
    data_.clear();
    has_data_ = false;
    return {};
  }
  if (line.front() == ':') return {};  // comment (servers send them as keep-alives)
  const auto colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
    return {};
  }
  if (field == "event" || field == "id" || field == "retry") return {};
  const std::string shown(line.substr(0, 80));
  return "malformed SSE line (no data/event/id/retry field): '" + shown + (line.size() > 80 ? "...'" : "'");
}

}  // namespace servetwin::live
