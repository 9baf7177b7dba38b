#include "live/load/sse.hpp"

namespace servetwin::live {

std::string SseSplitter::feed(std::string_view bytes, std::vector<std::string>& events) {
  // Whole runs of line bytes are appended at once (one event is ~300 bytes; byte-by-byte appends
  // were the runner's largest cost after JSON parsing).
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (!error_.empty()) return error_;
    const char c = bytes[i];
    if (c == '\n' && after_cr_) {  // the second half of a "\r\n" line end
      after_cr_ = false;
      ++i;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\n' || c == '\r') {
      error_ = take_line(events);
      ++i;
      continue;
    }
    const std::size_t end = bytes.find_first_of("\r\n", i);
    const std::size_t stop = end == std::string_view::npos ? bytes.size() : end;
    line_.append(bytes.substr(i, stop - i));
    i = stop;
  }
  return error_;
}

std::string SseSplitter::take_line(std::vector<std::string>& events) {
  std::string line;
  line.swap(line_);
  if (line.empty()) {  // blank line: dispatch the event (one without data is dropped, per the format)
    if (has_data_) events.push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
    return {};
  }
  if (line.front() == ':') return {};  // comment (servers send them as keep-alives)
  const auto colon = line.find(':');
  const std::string_view field = std::string_view(line).substr(0, colon);
  std::string_view value;
  if (colon != std::string::npos) {
    value = std::string_view(line).substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
    return {};
  }
  if (field == "event" || field == "id" || field == "retry") return {};
  std::string shown = line.substr(0, 80);
  return "malformed SSE line (no data/event/id/retry field): '" + shown + (line.size() > 80 ? "...'" : "'");
}

}  // namespace servetwin::live
