#pragma once
// Scrapes a server's Prometheus /metrics at a fixed interval during a load run and appends one row
// per scrape to a CSV beside the per-request records (docs/live.md, "Server metrics time series").
// The columns are vLLM's V1 metric names (older names are read as fallbacks); a metric the server
// does not export is an empty field. Kept out of the runner: it only needs the runner's clock origin.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <thread>

namespace servetwin::live {

// Sum over all label sets of each sample name in a Prometheus text exposition ("name{...} value").
// Comment lines and unparsable values are skipped.
std::map<std::string, double> parse_prometheus_sums(std::string_view text);

// The CSV header written by MetricsScraper.
const char* metrics_csv_header();
// One CSV row (no newline) for the scraped sums at `t_ns` after the run's origin.
std::string metrics_csv_row(long long t_ns, const std::map<std::string, double>& sums);

class MetricsScraper {
 public:
  // url: http://host:port/metrics. Throws std::invalid_argument for another form.
  MetricsScraper(const std::string& url, double interval_s, std::filesystem::path csv);
  ~MetricsScraper();
  MetricsScraper(const MetricsScraper&) = delete;
  MetricsScraper& operator=(const MetricsScraper&) = delete;

  // Starts scraping; times in the CSV are nanoseconds after `origin` (the runner's t0).
  void start(std::chrono::steady_clock::time_point origin);
  void stop();
  [[nodiscard]] long long rows() const { return rows_.load(); }
  [[nodiscard]] long long failures() const { return failures_.load(); }
  [[nodiscard]] const std::string& last_error() const { return last_error_; }

 private:
  void loop(std::chrono::steady_clock::time_point origin);
  std::string host_, port_, path_;
  double interval_s_;
  std::filesystem::path csv_;
  std::atomic<bool> stop_{false};
  std::atomic<long long> rows_{0}, failures_{0};
  std::string last_error_;  // written by the scraping thread, read after stop()
  std::thread thread_;
};

}  // namespace servetwin::live

namespace servetwin::live {
// Rewrites the CSV's t_ns column as t_ns - shift_ns (the scraper started before the runner's t0;
// shift_ns = t0 - scraper origin). Returns false when the file cannot be read or written.
bool shift_metrics_csv_times(const std::filesystem::path& csv, long long shift_ns);
}  // namespace servetwin::live
