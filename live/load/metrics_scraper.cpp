#include "live/load/metrics_scraper.hpp"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <fstream>
#include <stdexcept>

#include "live/common/http_get.hpp"

namespace servetwin::live {
namespace {

// Column -> the metric names that fill it, newest vLLM name first (0.11 still exports both of the
// deprecated ones that are listed second).
struct Column {
  const char* header;
  std::array<const char*, 2> names;
};
constexpr std::array<Column, 10> kColumns{{
    {"running", {"vllm:num_requests_running", nullptr}},
    {"waiting", {"vllm:num_requests_waiting", nullptr}},
    {"kv_cache_usage", {"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"}},
    {"preemptions_total", {"vllm:num_preemptions_total", nullptr}},
    {"prompt_tokens_total", {"vllm:prompt_tokens_total", nullptr}},
    {"generation_tokens_total", {"vllm:generation_tokens_total", nullptr}},
    {"ttft_sum_s", {"vllm:time_to_first_token_seconds_sum", nullptr}},
    {"ttft_count", {"vllm:time_to_first_token_seconds_count", nullptr}},
    {"itl_sum_s", {"vllm:inter_token_latency_seconds_sum", "vllm:time_per_output_token_seconds_sum"}},
    {"itl_count", {"vllm:inter_token_latency_seconds_count", "vllm:time_per_output_token_seconds_count"}},
}};

}  // namespace

std::map<std::string, double> parse_prometheus_sums(std::string_view text) {
  std::map<std::string, double> sums;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line.front() == '#') continue;
    const std::size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string_view::npos) continue;
    std::size_t value_start = name_end;
    if (line[name_end] == '{') {
      const std::size_t close = line.find('}', name_end);  // label values never hold '}' in vLLM's output
      if (close == std::string_view::npos) continue;
      value_start = close + 1;
    }
    while (value_start < line.size() && line[value_start] == ' ') ++value_start;
    std::size_t value_end = line.find(' ', value_start);
    if (value_end == std::string_view::npos) value_end = line.size();
    const std::string value(line.substr(value_start, value_end - value_start));
    try {
      std::size_t used = 0;
      const double v = std::stod(value, &used);
      if (used != value.size()) continue;
      sums[std::string(line.substr(0, name_end))] += v;
    } catch (const std::exception&) {
      continue;  // NaN/Inf spellings stod rejects, or garbage
    }
  }
  return sums;
}

const char* metrics_csv_header() {
  static const std::string header = [] {
    std::string h = "t_ns";
    for (const auto& c : kColumns) h += std::string(",") + c.header;
    return h;
  }();
  return header.c_str();
}

std::string metrics_csv_row(long long t_ns, const std::map<std::string, double>& sums) {
  std::string row = std::to_string(t_ns);
  for (const auto& c : kColumns) {
    row += ',';
    for (const char* name : c.names) {
      if (name == nullptr) continue;
      auto it = sums.find(name);
      if (it == sums.end()) continue;
      row += fmt::format("{:.9g}", it->second);
      break;
    }
  }
  return row;
}

MetricsScraper::MetricsScraper(const std::string& url, double interval_s, std::filesystem::path csv)
    : interval_s_(interval_s), csv_(std::move(csv)) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) throw std::invalid_argument("metrics URL '" + url + "': expected http://HOST:PORT/PATH");
  const std::string rest = url.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash);
  path_ = slash == std::string::npos ? "/metrics" : rest.substr(slash);
  const std::size_t colon = hostport.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == hostport.size())
    throw std::invalid_argument("metrics URL '" + url + "': expected http://HOST:PORT/PATH");
  host_ = hostport.substr(0, colon);
  port_ = hostport.substr(colon + 1);
  if (!(interval_s_ > 0)) throw std::invalid_argument("metrics scrape interval must be > 0 s");
}

MetricsScraper::~MetricsScraper() { stop(); }

void MetricsScraper::start(std::chrono::steady_clock::time_point origin) {
  stop_.store(false);
  thread_ = std::thread([this, origin] { loop(origin); });
}

void MetricsScraper::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void MetricsScraper::loop(std::chrono::steady_clock::time_point origin) {
  std::ofstream out(csv_);
  if (!out) {
    last_error_ = "cannot write " + csv_.string();
    failures_.fetch_add(1);
    return;
  }
  out << metrics_csv_header() << "\n" << std::flush;
  const auto interval = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(interval_s_));
  auto next = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    const auto sent = std::chrono::steady_clock::now();
    const HttpGetResult r = http_get(host_, port_, path_, std::min(interval_s_, 5.0) + 1.0);
    if (r.status == 200) {
      const long long t_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(sent - origin).count();
      // Flushed per row: an interrupted run keeps every scrape so far.
      out << metrics_csv_row(t_ns, parse_prometheus_sums(r.body)) << "\n" << std::flush;
      rows_.fetch_add(1);
    } else {
      failures_.fetch_add(1);
      last_error_ = r.status == 0 ? r.error : fmt::format("HTTP {}", r.status);
    }
    next += interval;
    // Sleep in short slices so stop() returns quickly.
    while (!stop_.load() && std::chrono::steady_clock::now() < next)
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(next - std::chrono::steady_clock::now(),
                                                                                std::chrono::milliseconds(50)));
  }
}

}  // namespace servetwin::live

namespace servetwin::live {

bool shift_metrics_csv_times(const std::filesystem::path& csv, long long shift_ns) {
  std::ifstream in(csv);
  if (!in) return false;
  std::string line, out;
  if (!std::getline(in, line)) return false;
  out = line + "\n";
  while (std::getline(in, line)) {
    const std::size_t comma = line.find(',');
    long long t = 0;
    const auto [p, ec] = std::from_chars(line.data(), line.data() + comma, t);
    if (ec != std::errc() || p != line.data() + comma) return false;
    out += std::to_string(t - shift_ns) + line.substr(comma) + "\n";
  }
  in.close();
  std::ofstream w(csv, std::ios::trunc);
  w << out;
  return static_cast<bool>(w);
}

}  // namespace servetwin::live
