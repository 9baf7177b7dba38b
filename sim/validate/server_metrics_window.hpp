#pragma once
// The server's own view of a live stage, from the Prometheus time series `servetwin load
// --scrape-metrics` writes (metrics.csv, live/load/metrics_scraper.hpp): mean requests running and
// waiting, the highest KV-cache usage, and the preemptions counted inside the stage's window.
// `validate --live` puts it beside the simulated batch, queue and preemptions.
#include <filesystem>
#include <nlohmann/json.hpp>

#include "sim/core/time.hpp"

namespace servetwin {

// {running_mean, waiting_mean, kv_usage_max, preemptions, scrapes}; a column the server did not
// export is null. Scrapes in [start_ns, end_ns]; preemptions = the counter's rise from the last
// scrape before the window to the last one inside it. Throws ConfigError naming the file and line
// for a malformed CSV.
nlohmann::json server_metrics_in_window(const std::filesystem::path& csv, TimeNs start_ns, TimeNs end_ns);

}  // namespace servetwin
