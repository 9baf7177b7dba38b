#include "sim/validate/server_metrics_window.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/core/parse_number.hpp"
#include "sim/metrics/request_record.hpp"

namespace servetwin {

nlohmann::json server_metrics_in_window(const std::filesystem::path& csv, TimeNs start_ns, TimeNs end_ns) {
  std::ifstream in(csv);
  if (!in) throw ConfigError(csv.string() + ": cannot read");
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = split_csv_record(line);
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  if (col.count("t_ns") == 0) throw ConfigError(csv.string() + ": line 1: no t_ns column");
  double running = 0, waiting = 0;
  std::size_t n_running = 0, n_waiting = 0, scrapes = 0;
  std::optional<double> kv_max, pre_before, pre_last;
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
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    const auto f = split_csv_record(line);
    const auto t = cell(f, "t_ns");
    if (!t) throw ConfigError(csv.string() + ": line " + std::to_string(lineno) + ": t_ns: missing");
    const auto pre = cell(f, "preemptions_total");
    if (*t < static_cast<double>(start_ns)) {
      if (pre) pre_before = pre;
      continue;
    }
    if (*t > static_cast<double>(end_ns)) break;
    ++scrapes;
    if (const auto v = cell(f, "running")) running += *v, ++n_running;
    if (const auto v = cell(f, "waiting")) waiting += *v, ++n_waiting;
    if (const auto v = cell(f, "kv_cache_usage")) kv_max = std::max(kv_max.value_or(0.0), *v);
    if (pre) {
      if (!pre_before) pre_before = pre;
      pre_last = pre;
    }
  }
  auto opt = [](bool have, double v) { return have ? nlohmann::json(v) : nlohmann::json(); };
  return {{"running_mean", opt(n_running > 0, n_running > 0 ? running / static_cast<double>(n_running) : 0)},
          {"waiting_mean", opt(n_waiting > 0, n_waiting > 0 ? waiting / static_cast<double>(n_waiting) : 0)},
          {"kv_usage_max", opt(kv_max.has_value(), kv_max.value_or(0))},
          {"preemptions", opt(pre_last.has_value(), pre_last.value_or(0) - pre_before.value_or(0))},
          {"scrapes", scrapes}};
}

}  // namespace servetwin
