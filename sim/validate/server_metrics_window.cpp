#include "sim/validate/server_metrics_window.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/core/parse_number.hpp"
#include "sim/metrics/request_record.hpp"

namespace servetwin {

std::vector<ServerScrape> read_server_scrapes(const std::filesystem::path& csv) {
  std::ifstream in(csv);
  if (!in) throw ConfigError(csv.string() + ": cannot read");
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split_csv_record(line);
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  if (col.count("t_ns") == 0) throw ConfigError(csv.string() + ": line 1: no t_ns column");
  int lineno = 1;
  auto cell = [&](const std::vector<std::string>& f, const char* name) -> std::optional<double> {
    const auto it = col.find(name);
    if (it == col.end() || it->second >= f.size() || f[it->second].empty()) return std::nullopt;
    try {
      return std::stod(f[it->second]);
    } catch (const std::exception&) {
      throw ConfigError(csv.string() + ": line " + std::to_string(lineno) + ": " + name + ": not a number");
    }
  };
  std::vector<ServerScrape> out;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    const auto f = split_csv_record(line);
    const auto t = cell(f, "t_ns");
    if (!t) throw ConfigError(csv.string() + ": line " + std::to_string(lineno) + ": t_ns: missing");
    out.push_back({*t, cell(f, "running"), cell(f, "waiting"), cell(f, "kv_cache_usage"), cell(f, "preemptions_total")});
  }
  return out;
}

nlohmann::json server_metrics_in_windows(const std::vector<ServerScrape>& scrapes,
                                         const std::vector<std::pair<TimeNs, TimeNs>>& windows) {
  double running = 0, waiting = 0;
  std::size_t n_running = 0, n_waiting = 0, inside = 0;
  std::optional<double> kv_max, preemptions;
  for (const auto& [start_ns, end_ns] : windows) {
    std::optional<double> pre_before, pre_last;
    for (const ServerScrape& s : scrapes) {
      if (s.t_ns < static_cast<double>(start_ns)) {
        if (s.preemptions_total) pre_before = s.preemptions_total;
        continue;
      }
      if (s.t_ns > static_cast<double>(end_ns)) break;
      ++inside;
      if (s.running) running += *s.running, ++n_running;
      if (s.waiting) waiting += *s.waiting, ++n_waiting;
      if (s.kv_usage) kv_max = std::max(kv_max.value_or(0.0), *s.kv_usage);
      if (s.preemptions_total) {
        if (!pre_before) pre_before = s.preemptions_total;
        pre_last = s.preemptions_total;
      }
    }
    if (pre_last) preemptions = preemptions.value_or(0.0) + (*pre_last - pre_before.value_or(0));
  }
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  auto mean = [](double sum, std::size_t n) { return n > 0 ? std::optional<double>(sum / static_cast<double>(n)) : std::nullopt; };
  return {{"running_mean", opt(mean(running, n_running))},
          {"waiting_mean", opt(mean(waiting, n_waiting))},
          {"kv_usage_max", opt(kv_max)},
          {"preemptions", opt(preemptions)},
          {"scrapes", inside}};
}

nlohmann::json server_metrics_in_window(const std::vector<ServerScrape>& scrapes, TimeNs start_ns, TimeNs end_ns) {
  return server_metrics_in_windows(scrapes, {{start_ns, end_ns}});
}

nlohmann::json server_metrics_over_run(const std::vector<ServerScrape>& scrapes) {
  return server_metrics_in_windows(scrapes, {{std::numeric_limits<TimeNs>::min(), std::numeric_limits<TimeNs>::max()}});
}

}  // namespace servetwin
