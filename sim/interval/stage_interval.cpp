#include "sim/interval/stage_interval.hpp"

namespace servetwin {
namespace {

void add_bounds(const IntervalModel& model, const StageRegime& regime, const EvidenceExclusion& ex,
                const std::string& metric, double predicted, nlohmann::json& out) {
  const MetricBand b = model.band(metric, regime, ex);
  if (!b.found) return;
  const auto [lo, hi] = b.bounds(predicted);
  out["bounds"][metric] = {lo, hi};
  const std::string family = metric_family(metric).empty() ? "cost" : metric_family(metric);
  out["pools"][family] = {{"pool", b.pool}, {"residuals", b.residuals}, {"sources", b.sources}};
}

}  // namespace

nlohmann::json interval_json(const IntervalModel& model, const StageRegime& regime, const nlohmann::json& metrics,
                             const nlohmann::json& cost, const EvidenceExclusion& ex) {
  const EvidenceCheck check = model.check(regime, ex);
  nlohmann::json out = {{"level", model.level()},
                        {"bounds", nlohmann::json::object()},
                        {"out_of_evidence", check.out_of_evidence},
                        {"regime", regime.to_json()},
                        {"pools", nlohmann::json::object()}};
  if (check.out_of_evidence) out["reason"] = check.reason;
  for (const auto& [metric, value] : metrics.items()) {
    if (value.is_number() && has_interval(metric)) add_bounds(model, regime, ex, metric, value.get<double>(), out);
  }
  if (cost.is_object()) {
    for (const auto& [metric, value] : cost.items()) {
      if (value.is_number() && metric.rfind("usd_per_1m", 0) == 0) add_bounds(model, regime, ex, metric, value.get<double>(), out);
    }
  }
  return out;
}

void add_stage_intervals(const Catalog& catalog, const IntervalModel& model, std::vector<ScenarioRun>& runs) {
  for (auto& run : runs) {
    if (!run.error.empty()) continue;
    for (auto& st : run.stages) {
      const StageRegime regime = stage_regime(catalog, run.scenario.deployment, st.load_shape);
      st.interval = interval_json(model, regime, st.metrics.to_json(), st.cost);
    }
  }
}

}  // namespace servetwin
