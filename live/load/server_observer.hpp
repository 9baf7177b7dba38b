#pragma once
// What `servetwin load` records about the server beside the per-request records: its Prometheus
// /metrics as a time series (metrics.csv, MetricsScraper) and its engine name/version
// (summary.json `server_engine`). Started before the runner, finished after it; the runner itself
// is untouched.
#include <filesystem>
#include <memory>
#include <string>

#include "live/load/metrics_scraper.hpp"

namespace servetwin::live {

struct ServerObserverOptions {
  std::string metrics_url;     // http://HOST:PORT/metrics; empty = no scrape
  double interval_s = 1.0;
  std::string engine_name;     // declared "NAME[ VERSION]" (--engine-name); may be empty
  std::string info_host, info_port;  // where to ask /version and /v1/models (empty = do not ask)
};

class ServerObserver {
 public:
  ServerObserver(ServerObserverOptions o, std::filesystem::path out_dir);
  // Starts the scrape (if any); call just before the runner starts.
  void start();
  // Stops the scrape, puts its times on the runner's clock (`t0`) and adds `server_engine` and
  // `server_metrics` to out_dir/summary.json (when it exists: a run that failed before writing it
  // keeps metrics.csv alone). Returns a one-line note for the user.
  std::string finish(std::chrono::steady_clock::time_point t0);

 private:
  ServerObserverOptions o_;
  std::filesystem::path out_dir_;
  std::unique_ptr<MetricsScraper> scraper_;
  std::chrono::steady_clock::time_point origin_;
};

}  // namespace servetwin::live
