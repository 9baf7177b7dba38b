// `servetwin validate --live REPORT` for an llm-d benchmark report: aggregate statistics only, so the
// requests are drawn from the report's length quantiles at its load, re-simulated, and the
// predicted metrics compared with the reported ones.
#include <fmt/format.h>

#include <cmath>

#include "sim/catalog/catalog.hpp"
#include "sim/core/rng.hpp"
#include "sim/engine/serving_sim.hpp"
#include "sim/metrics/stage_metrics.hpp"
#include "sim/validate/live_resimulate.hpp"
#include "sim/validate/live_validate.hpp"
#include "sim/validate/validate.hpp"

namespace servetwin {
namespace {

constexpr std::uint64_t kDrawSeed = 42;  // the project's default --seed

double uniform01(Rng& rng) { return static_cast<double>(rng() >> 11U) * 0x1.0p-53; }

// Inverse of the piecewise-linear CDF through the reported quantiles; the mean when there are
// fewer than two of them.
std::int64_t draw_length(Rng& rng, const std::map<double, double>& q, double mean) {
  if (q.size() < 2) return std::max<std::int64_t>(1, std::llround(mean));
  const double u = q.begin()->first + uniform01(rng) * (q.rbegin()->first - q.begin()->first);
  auto hi = q.lower_bound(u);
  if (hi == q.begin()) return std::max<std::int64_t>(1, std::llround(hi->second));
  auto lo = std::prev(hi);
  if (hi == q.end()) return std::max<std::int64_t>(1, std::llround(lo->second));
  const double f = (u - lo->first) / (hi->first - lo->first);
  return std::max<std::int64_t>(1, std::llround(lo->second + f * (hi->second - lo->second)));
}

std::vector<RequestRecord> draw_requests(const formats::LlmdStage& s, const std::string& file) {
  const std::int64_t n = s.requests_total - s.failures;
  if (n <= 0) {
    throw ConfigError(fmt::format("{}: field 'results.request_performance.aggregate.requests.total' missing or no "
                                  "successful request", file));
  }
  if (!s.rate_qps && !s.concurrency) {
    throw ConfigError(fmt::format("{}: field 'scenario.load.standardized' has neither rate_qps nor a finite "
                                  "concurrency: the load cannot be re-simulated", file));
  }
  Rng len_rng = make_rng(kDrawSeed, "llmd-report-lengths");
  Rng arr_rng = make_rng(kDrawSeed, "llmd-report-arrivals");
  std::vector<RequestRecord> out;
  double t_s = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    RequestRecord r;
    r.request_id = static_cast<std::uint64_t>(i);
    r.input_tokens = draw_length(len_rng, s.input_quantiles, s.input_mean);
    r.output_tokens = draw_length(len_rng, s.output_quantiles, s.output_mean);
    r.status = RequestStatus::kOk;
    if (s.rate_qps) {
      t_s += -std::log(1.0 - uniform01(arr_rng)) / *s.rate_qps;  // Poisson arrivals
      r.arrival_ns = seconds_to_ns(t_s);
    } else {
      r.user_id = i % *s.concurrency;  // closed loop, no client think time
      r.arrival_ns = 0;
    }
    r.first_token_ns = r.finish_ns = r.arrival_ns;
    out.push_back(r);
  }
  return out;
}

}  // namespace

nlohmann::json run_aggregate_validation(const Catalog& catalog, const LiveValidateOptions& opts,
                                        const formats::LlmdStage& report) {
  const std::string file = opts.dir.string();
  const LiveDeployment dep = live_run_deployment(catalog, opts, "llm-d-report-v0.2", nlohmann::json::object(), report.model);
  LiveStageReplay sim;
  try {
    sim = resimulate_live_stage(catalog, dep.d, 0, draw_requests(report, file));
  } catch (const DoesNotFitError& e) {
    throw ConfigError(fmt::format("{}: the deployment cannot run: {}", dep.where, e.what()));
  }
  TimeNs ws = -1, we = 0;
  for (const auto& r : sim.records) {
    ws = ws < 0 ? r.arrival_ns : std::min(ws, r.arrival_ns);
    we = std::max(we, r.finish_ns + 1);
  }
  const nlohmann::json pj = compute_stage_metrics(sim.records, 0, std::max<TimeNs>(0, ws), we).to_json();
  const std::string source = opts.dir.filename().string();
  nlohmann::json row = {{"source_id", source + ":stage0"}, {"file", source}, {"source", file}, {"stage", 0},
                        {"engine_preset", dep.d.engine}, {"fit_set", "none"}, {"scored", true},
                        {"model", dep.d.model}, {"gpu", dep.d.gpu}, {"tp", dep.d.tp}, {"deployment", to_json(dep.d)}};
  row["label"] = report.concurrency ? fmt::format("concurrency={}", *report.concurrency)
                                    : fmt::format("rate={}", report.rate_qps.value_or(0.0));
  std::map<std::string, std::vector<double>> errs;
  for (const auto& col : validation_metric_columns()) {
    const auto it = report.measured.find(col);
    if (it == report.measured.end()) continue;
    const double pred = pj.at(col).get<double>();
    row["measured"][col] = it->second;
    row["predicted"][col] = pred;
    row["measured_from"][col] = report.sources.at(col);
    if (it->second != 0) {
      const double err = (pred - it->second) / std::abs(it->second) * 100.0;
      row["ape"][col] = std::abs(err);
      errs[col].push_back(err);
    }
  }
  nlohmann::json src = {{"rows", 1}, {"ran", 1}, {"scored", 1}, {"unsupported", nlohmann::json::array()},
                        {"fit_excluded", nlohmann::json::array()}, {"metrics", nlohmann::json::object()}};
  for (auto& [col, col_errs] : errs) src["metrics"][col] = error_summary(col_errs);
  nlohmann::json out;
  out["schema_version"] = 1;
  out["sources"] = {{source, src}};
  out["rows"] = nlohmann::json::array({row});
  out["coverage"] = {{"rows", 1}, {"ran", 1}, {"fraction", 1.0}};
  out["live"] = {{"dir", file}, {"partial", false}, {"deployment", to_json(dep.d)}, {"deployment_from", dep.from},
                 {"format", "llm-d-report-v0.2"}, {"window_mode", "requests"},
                 {"field_sources",
                  {{"load", "scenario.load.standardized.rate_qps (Poisson arrivals, seed 42) or .concurrency (closed loop)"},
                   {"lengths", "results.request_performance.aggregate.requests.input_length/output_length quantiles "
                               "(piecewise-linear inverse CDF, seed 42), else the mean"},
                   {"requests", "requests.total - requests.failures"}}}};
  out["metric_notes"] = {{"aggregate", "the report has no per-request data: the requests are drawn, not replayed"}};
  return out;
}

}  // namespace servetwin
