#include "sim/validate/validation_report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "sim/metrics/percentile.hpp"
#include "sim/validate/row_metrics.hpp"
#include "sim/validate/validate.hpp"

namespace servetwin {
nlohmann::json error_summary(const std::vector<double>& signed_errors) {
  std::vector<double> ape;
  double sum_ape = 0, sum = 0;
  std::size_t off_2x = 0;
  for (const double e : signed_errors) {
    ape.push_back(std::abs(e));
    sum_ape += std::abs(e);
    sum += e;
    const double ratio = 1.0 + e / 100.0;  // predicted / measured
    if (ratio >= 2.0 || ratio <= 0.5) ++off_2x;
  }
  const double n = static_cast<double>(signed_errors.size());
  return {{"n", signed_errors.size()}, {"median_ape", median(ape)}, {"p90_ape", percentile(ape, 0.9)},
          {"mean_ape", sum_ape / n}, {"bias", sum / n}, {"off_2x_share", static_cast<double>(off_2x) / n}};
}

namespace {

// Why a mapped row gave nothing to compare ("" when it did): its mapping, its run, or what the run needed.
std::string unscored_reason(const ValidationItem& it) {
  std::string reason = it.map.reason;
  if (reason.empty() && !it.run_error.empty()) reason = "run failed: " + it.run_error;
  if (reason.empty() && it.result) {
    const auto& es = it.result->engine_stats["engine_specific"];
    if (es.contains("kv_cpu_offload_bytes") && es["kv_cpu_offload_bytes"].get<double>() > 0 &&
        (es["cached_block_evictions"].get<std::uint64_t>() > 0 || es["preemptions"].get<std::uint64_t>() > 0)) {
      // Offload only acts when GPU blocks are evicted or preempted; this run needed it.
      reason = "KV CPU offload is not modelled and this run evicted/preempted GPU KV blocks, so offload would "
               "have changed the result";
    }
    if (reason.empty() && it.result->metrics.completed == 0) {
      const std::size_t rejected = it.result->metrics.rejected;
      reason = rejected == 0 ? "no request completed in the simulated run"
                             : fmt::format("no request completed: the engine rejected all {} requests (input_tokens_mean + "
                                           "output_tokens_mean beyond the preset's length or admission limits)",
                                           rejected);
    }
  }
  return reason;
}

nlohmann::json row_header(const ValidationItem& it) {
  nlohmann::json row;
  row["source_id"] = it.row.get("source_id");
  row["file"] = it.row.file;
  row["source"] = it.row.get("source");
  row["engine_preset"] = it.map.engine_preset;
  row["engine_preset_version"] = it.map.engine_preset_version;
  if (!it.map.engine_evidence.empty()) row["engine_evidence"] = it.map.engine_evidence;
  if (!it.map.notes.empty()) row["mapping_notes"] = it.map.notes;
  row["fit_set"] = it.map.fit_set;
  row["scored"] = !it.map.in_fit_set;
  row["load_type"] = it.row.get("load_type");
  if (auto lv = it.row.number("load_value")) row["load_value"] = *lv;
  row["model"] = it.row.get("model");
  row["gpu"] = it.row.get("gpu");
  row["tp"] = it.map.scenario->deployment.tp;
  if (it.map.replicas > 1) row["replicas"] = it.map.replicas;
  if (!it.map.load_note.empty()) row["load_note"] = it.map.load_note;
  row["deployment"] = to_json(it.map.scenario->deployment);
  if (it.regime) row["regime"] = it.regime->to_json();
  return row;
}

// Predicted, measured and APE per compared column into `row`; the signed % errors of scored rows into `errors`.
void compare_metrics(const ValidationItem& it, nlohmann::json& row, std::map<std::string, std::vector<double>>& errors) {
  const StageMetrics& mt = it.result->metrics;
  row["predicted"] = nlohmann::json::object();
  row["measured"] = nlohmann::json::object();
  row["ape"] = nlohmann::json::object();
  for (const auto& [col, how] : it.map.metric_source) {
    const double meas = *it.row.number(col);
    double pred = 0;
    if (col == "usd_per_1m_tokens") {
      const double tok_s = mt.throughput_output_tok_s;  // the whole deployment (all replicas were simulated)
      if (!(tok_s > 0)) continue;  // nothing finished in the window: no cost to compare
      pred = it.map.usd_per_h * 1e6 / (tok_s * 3600.0);
    } else {
      pred = predicted_row_metric(col, mt, it.row);
    }
    row["predicted"][col] = pred;
    row["measured"][col] = meas;
    if (meas != 0) {
      const double err = (pred - meas) / std::abs(meas) * 100.0;
      row["ape"][col] = std::abs(err);
      if (!it.map.in_fit_set) errors[col].push_back(err);
    }
  }
  row["metric_definitions"] = it.map.metric_source;
  const auto& es = it.result->engine_stats;
  row["engine"] = {{"batch_max", es["batch"]["max"]},
                   {"batch_mean", es["batch"]["mean_while_busy"]},
                   {"requests", mt.requests},
                   {"rejected", mt.rejected},
                   {"engine_specific", es["engine_specific"]}};
}

// Per compared column the row reports: one more row reporting it, and one more that ran when `ran`.
void count_metric_rows(const ValidationRow& row, bool ran, std::map<std::string, std::pair<int, int>>& counts) {
  auto count = [&](const std::vector<std::string>& cols) {
    for (const auto& col : cols) {
      if (row.get(col).empty()) continue;
      ++counts[col].first;
      if (ran) ++counts[col].second;
    }
  };
  count(validation_metric_columns());
  count(extra_metric_columns());
}

nlohmann::json metric_notes() {
  return {
      {"itl_mean_ms", "inference-perf sources (notes mention inference-perf): per-request mean inter-token gap averaged "
                      "over requests (= simulated tpot_mean_ms); otherwise pooled gaps sum(e2e-ttft)/sum(out-1)"},
      {"tpot_mean_ms", "(e2e - ttft)/(out - 1) per request, averaged over requests"},
      {"throughput_output_tok_s", "open/closed loop: output tokens of requests finished in the window / window; replays, "
                                  "offline and static batches: first arrival to last completion"},
      {"fit_excluded", "rows belonging to the fit set of the preset that predicted them are run but never scored"}};
}

}  // namespace

nlohmann::json validation_report(const ValidationInputs& in) {
  nlohmann::json report;
  report["schema_version"] = 1;
  nlohmann::json sources = nlohmann::json::object();
  for (const auto& f : in.files) {
    sources[f] = {{"rows", 0}, {"ran", 0}, {"scored", 0}, {"unsupported", nlohmann::json::array()},
                  {"fit_excluded", nlohmann::json::array()}, {"metrics", nlohmann::json::object()}};
    // Columns neither compared nor descriptive (e.g. a metric servetwin does not predict): named, not dropped silently.
    const auto nc = in.not_compared.find(f);
    if (nc != in.not_compared.end() && !nc->second.empty()) sources[f]["columns_not_compared"] = nc->second;
  }
  std::map<std::string, std::map<std::string, std::vector<double>>> signed_errors;  // file -> metric -> %
  nlohmann::json rows = nlohmann::json::array();
  std::size_t total = 0, ran = 0;
  std::map<std::string, std::map<std::string, std::pair<int, int>>> metric_rows;  // file -> metric -> (reporting, ran)
  for (const auto& it : in.items) {
    auto& src = sources[it.row.file];
    src["rows"] = src["rows"].get<int>() + 1;
    ++total;
    const std::string& id = it.row.get("source_id");
    const std::string reason = unscored_reason(it);
    count_metric_rows(it.row, reason.empty(), metric_rows[it.row.file]);
    if (!reason.empty()) {
      src["unsupported"].push_back({{"source_id", id}, {"reason", reason}});
      continue;
    }
    ++ran;
    src["ran"] = src["ran"].get<int>() + 1;
    nlohmann::json row = row_header(it);
    compare_metrics(it, row, signed_errors[it.row.file]);
    if (it.map.in_fit_set) {
      src["fit_excluded"].push_back({{"source_id", id}, {"fit_set", it.map.fit_set}, {"preset", it.map.engine_preset}});
    } else {
      src["scored"] = src["scored"].get<int>() + 1;
    }
    rows.push_back(std::move(row));
  }
  for (auto& [file, metrics] : signed_errors) {
    for (auto& [col, errs] : metrics) sources[file]["metrics"][col] = error_summary(errs);
  }
  // Coverage per metric: rows that ran / rows that report the metric (a metric no scored row gave still shows).
  for (const auto& [file, per_metric] : metric_rows) {
    for (const auto& [col, counts] : per_metric) {
      auto& m = sources[file]["metrics"][col];
      if (!m.contains("n")) m["n"] = 0;
      m["rows_reporting"] = counts.first;
      m["coverage"] = static_cast<double>(counts.second) / static_cast<double>(counts.first);
    }
  }
  report["sources"] = sources;
  report["rows"] = rows;
  report["coverage"] = {{"rows", total}, {"ran", ran}, {"fraction", total > 0 ? static_cast<double>(ran) / static_cast<double>(total) : 0.0}};
  report["metric_notes"] = metric_notes();
  return report;
}

void check_no_fit_rows_scored(const ValidationPolicy& policy, const nlohmann::json& report) {
  for (const auto& r : report["rows"]) {
    ValidationRow row;
    row.cells["source_id"] = r["source_id"].get<std::string>();
    const auto src = r.find("source");
    if (src != r.end() && src->is_string()) row.cells["source"] = src->get<std::string>();
    // The row's instance (fit sets may select by it) is in its deployment when the catalog knew it.
    const auto dep = r.find("deployment");
    if (dep != r.end() && dep->contains("instance") && (*dep)["instance"].is_string()) {
      row.cells["instance"] = (*dep)["instance"].get<std::string>();
    }
    if (r["scored"].get<bool>() && policy.row_in_fit_set(r["fit_set"].get<std::string>(), row)) {
      throw std::logic_error("row " + r["source_id"].get<std::string>() + " is in fit set " +
                             r["fit_set"].get<std::string>() + " of its preset and was scored");
    }
  }
}

namespace {

std::string pct_or_dash(const nlohmann::json& m, const char* key, const char* format) {
  return m.contains(key) ? fmt::format(fmt::runtime(format), 100.0 * m[key].get<double>()) : "-";
}
std::string num_or_dash(const nlohmann::json& m, const char* key, const char* format) {
  return m.contains(key) ? fmt::format(fmt::runtime(format), m[key].get<double>()) : "-";
}

// Per metric: n, median / p90 / mean APE, bias, share off by 2x or more, coverage (rows run / rows reporting the
// metric), interval coverage (scored rows whose measured value lies inside the interval / rows with one).
void print_metric_table(std::ostream& os, const nlohmann::json& metrics) {
  os << fmt::format("  {:<28} {:>4} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6} {:>9}\n", "metric", "n", "median%", "p90%",
                    "mean%", "bias%", ">=2x%", "cover%", "in-int%");
  for (const auto& [col, m] : metrics.items()) {
    const std::string in_interval =
        m.contains("interval_coverage") ? fmt::format("{:.0f} ({})", 100.0 * m["interval_coverage"].get<double>(),
                                                      m["interval_n"].get<int>())
                                        : "-";
    os << fmt::format("  {:<28} {:>4} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6} {:>9}\n", col, m["n"].get<int>(),
                      num_or_dash(m, "median_ape", "{:.1f}"), num_or_dash(m, "p90_ape", "{:.1f}"),
                      num_or_dash(m, "mean_ape", "{:.1f}"), num_or_dash(m, "bias", "{:+.1f}"),
                      pct_or_dash(m, "off_2x_share", "{:.0f}"), pct_or_dash(m, "coverage", "{:.0f}"), in_interval);
  }
}

}  // namespace

void print_validation_tables(std::ostream& os, const nlohmann::json& report) {
  for (const auto& [file, src] : report["sources"].items()) {
    os << fmt::format("\n== {}: {} rows, {} ran, {} scored ({} fit rows excluded), {} unsupported\n", file,
                      src["rows"].get<int>(), src["ran"].get<int>(), src["scored"].get<int>(), src["fit_excluded"].size(),
                      src["unsupported"].size());
    if (!src["metrics"].empty()) print_metric_table(os, src["metrics"]);
    for (const auto& u : src["unsupported"]) {
      os << fmt::format("  unsupported {}: {}\n", u["source_id"].get<std::string>(), u["reason"].get<std::string>());
    }
    if (src.contains("columns_not_compared")) {
      os << fmt::format("  columns not compared (not predicted): {}\n",
                        fmt::join(src["columns_not_compared"].get<std::vector<std::string>>(), ", "));
    }
    for (const auto& r : report["rows"]) {
      if (r["file"] == file && r.contains("engine_evidence")) {
        os << fmt::format("  engine from the row's records, {}: {}\n", r["source_id"].get<std::string>(),
                          r["engine_evidence"].get<std::string>());
      }
      if (r["file"] == file && r.contains("mapping_notes")) {
        for (const auto& note : r["mapping_notes"]) {
          os << fmt::format("  read {}: {}\n", r["source_id"].get<std::string>(), note.get<std::string>());
        }
      }
    }
  }
  const auto& c = report["coverage"];
  if (report.contains("interval_level")) {
    os << fmt::format("\nin-int%: share of scored rows whose measured value lies in the {:.0f}% prediction interval "
                      "drawn from the other sources' residuals ({}); (n) rows with an interval\n",
                      100 * report["interval_level"].get<double>(), report["interval_table"].get<std::string>());
  }
  os << fmt::format("\ncoverage: {} of {} rows ran ({:.1f}%)\n", c["ran"].get<std::size_t>(), c["rows"].get<std::size_t>(),
                    100.0 * c["fraction"].get<double>());
}

}  // namespace servetwin
