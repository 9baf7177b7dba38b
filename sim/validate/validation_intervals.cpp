#include "sim/validate/validation_intervals.hpp"

#include <cmath>
#include <map>

#include "sim/interval/stage_interval.hpp"

namespace servetwin {
namespace {

std::string dataset_of(const std::string& source_id) { return source_id.substr(0, source_id.find(':')); }

// Scored rows inside / with an interval, per file and metric.
struct CoverageCount {
  int inside = 0, with_interval = 0;
};

void annotate_row(nlohmann::json& row, const IntervalModel& model,
                  std::map<std::string, std::map<std::string, CoverageCount>>& coverage) {
  const auto& id = row["source_id"].get<std::string>();
  const EvidenceExclusion own_source{row["file"].get<std::string>(), dataset_of(id)};
  const StageRegime regime = StageRegime::from_json(row["regime"]);
  // The cost column is priced throughput: interval_json bounds it from the throughput band, inverted.
  nlohmann::json cost = nullptr;
  if (row["predicted"].contains("usd_per_1m_tokens")) cost = {{"usd_per_1m_tokens", row["predicted"]["usd_per_1m_tokens"]}};
  const nlohmann::json iv = interval_json(model, regime, row["predicted"], cost, own_source);
  const nlohmann::json& bounds = iv["bounds"];
  row["interval"] = bounds;
  row["interval_pools"] = iv["pools"];
  row["out_of_evidence"] = iv["out_of_evidence"];
  if (iv.contains("reason")) row["out_of_evidence_reason"] = iv["reason"];
  if (!row["scored"].get<bool>()) return;
  for (const auto& [metric, b] : bounds.items()) {
    const double meas = row["measured"][metric].get<double>();
    auto& c = coverage[row["file"].get<std::string>()][metric];
    ++c.with_interval;
    if (meas >= b[0].get<double>() && meas <= b[1].get<double>()) ++c.inside;
  }
}

}  // namespace

std::vector<Residual> residuals_from_report(const nlohmann::json& report) {
  std::vector<Residual> out;
  for (const auto& row : report["rows"]) {
    if (!row["scored"].get<bool>() || !row.contains("regime")) continue;
    for (const auto& [metric, meas] : row["measured"].items()) {
      const double pred = row["predicted"][metric].get<double>();
      const double m = meas.get<double>();
      if (metric_family(metric).empty() || !(m > 0) || !(pred > 0)) continue;  // a log ratio needs both positive
      const auto& id = row["source_id"].get<std::string>();
      out.push_back({row["file"].get<std::string>(), dataset_of(id), id, metric, StageRegime::from_json(row["regime"]),
                     std::log(pred / m)});
    }
  }
  return out;
}

void add_interval_columns(nlohmann::json& report, const IntervalModel& model) {
  std::map<std::string, std::map<std::string, CoverageCount>> coverage;
  for (auto& row : report["rows"]) {
    if (row.contains("regime")) annotate_row(row, model, coverage);
  }
  for (const auto& [file, per_metric] : coverage) {
    for (const auto& [metric, c] : per_metric) {
      auto& m = report["sources"][file]["metrics"][metric];
      m["interval_n"] = c.with_interval;
      m["interval_coverage"] = c.with_interval > 0 ? static_cast<double>(c.inside) / c.with_interval : 0.0;
    }
  }
  report["interval_level"] = model.level();
  report["interval_table"] = model.origin();
}

}  // namespace servetwin
