#pragma once
// Step 4 of mapping a published row: which of its columns are compared, what each prediction is read from, and
// the price that turns a predicted throughput into USD per 1M tokens.
#include "sim/metrics/stage_metrics.hpp"
#include "sim/validate/row_mapping.hpp"

namespace servetwin {

// inference-perf reports ITL as each request's mean gap, averaged over requests (= per-request TPOT); vLLM
// bench pools all gaps (README "TPOT definitions differ"). True for rows whose notes name inference-perf.
bool per_request_itl(const ValidationRow& row);

// Fills `m.metric_source` with every compared column the row reports and `m.usd_per_h` for a cost column.
void set_row_metrics(const Catalog& catalog, const ValidationRow& row, RowMapping& m);

// The simulated value of a compared column (not usd_per_1m_tokens, which is priced from throughput).
double predicted_metric(const std::string& col, const StageMetrics& m, bool per_request_itl);

}  // namespace servetwin
