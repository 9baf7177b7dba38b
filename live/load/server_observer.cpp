#include "live/load/server_observer.hpp"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "live/common/engine_info.hpp"
#include "sim/metrics/summary.hpp"

namespace servetwin::live {

ServerObserver::ServerObserver(ServerObserverOptions o, std::filesystem::path out_dir)
    : o_(std::move(o)), out_dir_(std::move(out_dir)) {
  if (!o_.metrics_url.empty()) scraper_ = std::make_unique<MetricsScraper>(o_.metrics_url, o_.interval_s, out_dir_ / "metrics.csv");
}

void ServerObserver::start() {
  origin_ = std::chrono::steady_clock::now();
  if (scraper_) {
    std::filesystem::create_directories(out_dir_);
    scraper_->start(origin_);
  }
}

std::string ServerObserver::finish(std::chrono::steady_clock::time_point t0) {
  std::string note;
  nlohmann::json metrics = nullptr;
  if (scraper_) {
    scraper_->stop();
    const long long shift = std::chrono::duration_cast<std::chrono::nanoseconds>(t0 - origin_).count();
    const bool shifted = shift_metrics_csv_times(out_dir_ / "metrics.csv", shift);
    metrics = {{"file", "metrics.csv"}, {"url", o_.metrics_url}, {"interval_s", o_.interval_s},
               {"rows", scraper_->rows()}, {"failed_scrapes", scraper_->failures()},
               {"times", shifted ? "ns after the run's t0 (requests.csv's clock)" : "ns after the scraper's start"}};
    if (scraper_->failures() > 0) metrics["last_error"] = scraper_->last_error();
    note = fmt::format("server metrics: {} scrapes of {} -> metrics.csv ({} failed{})", scraper_->rows(), o_.metrics_url,
                       scraper_->failures(), scraper_->failures() > 0 ? ": " + scraper_->last_error() : "");
  }
  const nlohmann::json engine = query_engine_info(o_.info_host, o_.info_port, o_.engine_name);
  const auto summary_path = out_dir_ / "summary.json";
  std::ifstream in(summary_path);
  if (!in) return note;
  nlohmann::json summary = nlohmann::json::parse(in, nullptr, false);
  in.close();
  if (!summary.is_object()) return note;
  summary["server_engine"] = engine;
  if (!metrics.is_null()) summary["server_metrics"] = metrics;
  write_json_file(summary_path, summary);
  return note;
}

}  // namespace servetwin::live
