#pragma once
// The server's own view of a live stage, from the Prometheus time series `servetwin load
// --scrape-metrics` writes (metrics.csv, live/load/metrics_scraper.hpp): mean requests running and
// waiting, the highest KV-cache usage, and the preemptions counted inside the stage's window.
// `validate --live` puts it beside the simulated batch, queue and preemptions.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "sim/core/time.hpp"

namespace servetwin {

// One scrape of metrics.csv; a column the server did not export that time is empty.
struct ServerScrape {
  double t_ns = 0;
  std::optional<double> running, waiting, kv_usage, preemptions_total;
};

// Every row of metrics.csv, in file order (the scraper writes them in time order), read once per
// validation. Throws ConfigError naming the file and line for a malformed CSV.
std::vector<ServerScrape> read_server_scrapes(const std::filesystem::path& csv);

// {running_mean, waiting_mean, kv_usage_max, preemptions, scrapes}; a column the server did not
// export is null. Scrapes in [start_ns, end_ns]; preemptions = the counter's rise from the last
// scrape before the window to the last one inside it.
nlohmann::json server_metrics_in_window(const std::vector<ServerScrape>& scrapes, TimeNs start_ns, TimeNs end_ns);

// The same over several windows (a load measured in passes: validate's pooled rows): the means over
// every scrape inside any window, the highest KV usage, and the preemptions summed over the windows.
nlohmann::json server_metrics_in_windows(const std::vector<ServerScrape>& scrapes,
                                         const std::vector<std::pair<TimeNs, TimeNs>>& windows);

// The same over the whole series: preemptions = the counter's last value less its first (a stage's
// window edges can miss a step's increment; the preemption bar reads the whole run).
nlohmann::json server_metrics_over_run(const std::vector<ServerScrape>& scrapes);

}  // namespace servetwin
