#include "sim/metrics/stage_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "sim/metrics/percentile.hpp"

namespace servetwin {

Distribution summarize(std::vector<double> values) {
  Distribution d;
  d.n = values.size();
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (const double v : values) sum += v;
  d.mean = sum / static_cast<double>(values.size());
  auto pct = [&](double q) { return percentile_sorted(values, q); };
  d.p50 = pct(0.50);
  d.p90 = pct(0.90);
  d.p95 = pct(0.95);
  d.p99 = pct(0.99);
  d.min = values.front();
  d.max = values.back();
  return d;
}

StageMetrics compute_stage_metrics(const std::vector<RequestRecord>& records, int stage, TimeNs start_ns,
                                   TimeNs end_ns) {
  return compute_pooled_stage_metrics({StageSlice{&records, stage, start_ns, end_ns}}, stage);
}

StageMetrics compute_pooled_stage_metrics(const std::vector<StageSlice>& slices, int stage) {
  StageMetrics m;
  m.stage = stage;
  std::vector<double> ttft, tpot, tpot_incl, e2e, lpt;
  double out_in_window = 0, total_in_window = 0, out_all = 0, gap_sum_ms = 0, gap_count = 0, full_s = 0;
  for (const StageSlice& slice : slices) {
    m.window_s += ns_to_seconds(slice.end_ns - slice.start_ns);
    TimeNs last_finish = slice.start_ns;
    for (const auto& r : *slice.records) {
      if (r.stage != slice.stage) continue;
      ++m.requests;
      switch (r.status) {
        case RequestStatus::kRejected: ++m.rejected; continue;
        case RequestStatus::kError: ++m.errors; continue;
        case RequestStatus::kTimeout: ++m.timeouts; continue;
        case RequestStatus::kUnfinished:
        case RequestStatus::kCancelled: ++m.unfinished; continue;
        case RequestStatus::kOk: break;
      }
      ++m.completed;
      out_all += static_cast<double>(r.output_tokens);
      last_finish = std::max(last_finish, r.finish_ns);
      const bool in_window = r.finish_ns >= slice.start_ns && r.finish_ns < slice.end_ns;
      if (in_window) {
        ++m.completed_in_window;
        out_in_window += static_cast<double>(r.output_tokens);
        total_in_window += static_cast<double>(r.output_tokens + r.input_tokens);
      }
      const double e2e_ms = ns_to_ms(r.finish_ns - r.arrival_ns);
      e2e.push_back(e2e_ms);
      if (r.first_token_ns >= 0) {
        const double ttft_ms = ns_to_ms(r.first_token_ns - r.arrival_ns);
        ttft.push_back(ttft_ms);
        if (r.output_tokens > 1) {
          const double decode_ms = ns_to_ms(r.finish_ns - r.first_token_ns);
          tpot.push_back(decode_ms / static_cast<double>(r.output_tokens - 1));
          gap_sum_ms += decode_ms;
          gap_count += static_cast<double>(r.output_tokens - 1);
        }
      }
      if (r.output_tokens > 0) {
        tpot_incl.push_back(e2e_ms / static_cast<double>(r.output_tokens));
        lpt.push_back(e2e_ms / static_cast<double>(r.output_tokens));
      }
    }
    full_s += ns_to_seconds(last_finish - slice.start_ns);
  }
  if (m.window_s > 0) {
    m.throughput_output_tok_s = out_in_window / m.window_s;
    m.throughput_total_tok_s = total_in_window / m.window_s;
    m.request_rate_achieved = static_cast<double>(m.completed_in_window) / m.window_s;
  }
  m.throughput_output_tok_s_full = full_s > 0 ? out_all / full_s : 0;
  m.ttft_ms = summarize(ttft);
  m.tpot_ms = summarize(tpot);
  m.itl_per_request_ms = m.tpot_ms;
  m.tpot_incl_ttft_ms = summarize(tpot_incl);
  m.e2e_ms = summarize(e2e);
  m.latency_per_token_ms = summarize(lpt);
  m.itl_mean_ms = gap_count > 0 ? gap_sum_ms / gap_count : 0;
  if (m.requests > 0) {
    m.error_rate = static_cast<double>(m.errors + m.timeouts) / static_cast<double>(m.requests);
    m.rejection_rate = static_cast<double>(m.rejected) / static_cast<double>(m.requests);
  }
  return m;
}

namespace {
nlohmann::json dist_json(const Distribution& d) {
  return {{"n", d.n}, {"mean", d.mean}, {"p50", d.p50}, {"p90", d.p90}, {"p95", d.p95},
          {"p99", d.p99}, {"min", d.min}, {"max", d.max}};
}
}  // namespace

nlohmann::json StageMetrics::to_json() const {
  nlohmann::json j;
  j["stage"] = stage;
  j["window_s"] = window_s;
  j["requests"] = requests;
  j["completed"] = completed;
  j["completed_in_window"] = completed_in_window;
  j["rejected"] = rejected;
  j["errors"] = errors;
  j["timeouts"] = timeouts;
  j["unfinished"] = unfinished;
  j["error_rate"] = error_rate;
  j["rejection_rate"] = rejection_rate;
  // Flat names equal to the validation CSV columns, so `validate` can compare key by key.
  j["throughput_output_tok_s"] = throughput_output_tok_s;
  j["throughput_output_tok_s_full"] = throughput_output_tok_s_full;
  j["throughput_total_tok_s"] = throughput_total_tok_s;
  j["request_rate_achieved"] = request_rate_achieved;
  j["ttft_mean_ms"] = ttft_ms.mean;
  j["ttft_p50_ms"] = ttft_ms.p50;
  j["ttft_p90_ms"] = ttft_ms.p90;
  j["ttft_p99_ms"] = ttft_ms.p99;
  j["itl_mean_ms"] = itl_mean_ms;
  j["tpot_mean_ms"] = tpot_ms.mean;
  j["tpot_incl_ttft_mean_ms"] = tpot_incl_ttft_ms.mean;
  j["e2e_mean_ms"] = e2e_ms.mean;
  j["e2e_p50_ms"] = e2e_ms.p50;
  j["e2e_p99_ms"] = e2e_ms.p99;
  j["latency_per_token_median_ms"] = latency_per_token_ms.p50;
  // Full distributions for plots and SLO checks.
  j["distributions"] = {{"ttft_ms", dist_json(ttft_ms)},
                        {"tpot_ms", dist_json(tpot_ms)},
                        {"tpot_incl_ttft_ms", dist_json(tpot_incl_ttft_ms)},
                        {"e2e_ms", dist_json(e2e_ms)},
                        {"latency_per_token_ms", dist_json(latency_per_token_ms)}};
  return j;
}

}  // namespace servetwin
