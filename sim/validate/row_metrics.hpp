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

// A client that does not stream (notes or input_tokens_desc say "non-streaming", "stream=false", ...) sees its
// first token only with the whole reply.
bool non_streaming_client(const ValidationRow& row);

// predicted_metric as the row's client measured it: per-request ITL for inference-perf rows; for a non-streaming
// client TTFT is the request latency (ttft_* from e2e_*) and the per-token columns (tpot, itl) are e2e / output
// tokens, the only per-token figure such a client can compute.
double predicted_row_metric(const std::string& col, const StageMetrics& m, const ValidationRow& row);

}  // namespace servetwin
