#pragma once
// Metrics of one load stage, computed from per-request records by the same code for simulated
// and live runs, so the two are comparable by construction. Names follow the column names of
// ../shared/validation/published (throughput_output_tok_s, ttft_p50_ms, ...).
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/metrics/request_record.hpp"

namespace servetwin {

struct Distribution {
  std::size_t n = 0;
  double mean = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, min = 0, max = 0;
};
// Percentiles with linear interpolation between order statistics (numpy's default).
Distribution summarize(std::vector<double> values);

struct StageMetrics {
  int stage = 0;
  double window_s = 0;                     // measurement window length
  std::size_t requests = 0, completed = 0, completed_in_window = 0, rejected = 0, errors = 0, timeouts = 0,
              unfinished = 0;
  double throughput_output_tok_s = 0;      // output tokens of requests finished in the window / window
  double throughput_output_tok_s_full = 0; // all completed requests' tokens / (last finish - window start)
  double throughput_total_tok_s = 0;       // (input + output) of requests finished in window / window
  double request_rate_achieved = 0;        // requests finished in window / window
  Distribution ttft_ms, tpot_ms, tpot_incl_ttft_ms, e2e_ms, latency_per_token_ms, itl_per_request_ms;
  double itl_mean_ms = 0;                  // pooled inter-token gap: sum(e2e - ttft) / sum(out - 1)
  double error_rate = 0, rejection_rate = 0;

  [[nodiscard]] nlohmann::json to_json() const;
};

// Records of other stages are ignored. Window = [start_ns, end_ns).
StageMetrics compute_stage_metrics(const std::vector<RequestRecord>& records, int stage, TimeNs start_ns,
                                   TimeNs end_ns);

// One stage's records and window, as one part of a pooled measurement.
struct StageSlice {
  const std::vector<RequestRecord>* records;  // records of other stages are ignored
  int stage;
  TimeNs start_ns, end_ns;
};
// One load measured in several windows (a sweep that repeats its stages in passes, so that every load
// samples the same span of a server whose speed drifts): distributions over the union of the slices'
// requests; window_s and the throughputs' denominators are the sums of the slices' windows. One slice
// gives compute_stage_metrics exactly. `stage` is the result's stage field.
StageMetrics compute_pooled_stage_metrics(const std::vector<StageSlice>& slices, int stage);

}  // namespace servetwin
