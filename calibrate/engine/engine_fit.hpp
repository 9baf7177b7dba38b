#pragma once
// Engine overheads from a run's per-request records (the CSV of sim/metrics/request_record.hpp,
// written identically by the live runner and the simulator).
//
// Model (continuous batching, one token per running request per decode step):
//   TTFT of a request arriving at an idle engine = per_request_ns + step_ns + prefill_ns_per_token * input
//   decode span (first token -> finish)           = step_ns * (decode steps + prefill steps interleaved)
//                                                 + per_seq_step_ns * sum over its decode steps of batch size
//                                                 + prefill_ns_per_token * input tokens of interleaved prefills
// Interleaved prefill steps are the distinct first-token times of other requests inside the span;
// the batch-size sum is estimated from the overlap of decode spans. All four unknowns are solved in
// one least-squares system (relative weighting), constrained non-negative.
#include <filesystem>
#include <string>
#include <vector>

#include "sim/metrics/request_record.hpp"

namespace servetwin::calibrate {

struct EngineFit {
  double per_request_ns = 0;       // fixed per request before its prefill (API, tokenisation, scheduling)
  double step_ns = 0;              // fixed per engine step (launch, sync, sampler)
  double per_seq_step_ns = 0;      // per running sequence per decode step
  double prefill_ns_per_token = 0; // per prompt token in a prefill step
  std::size_t requests_used = 0, idle_arrivals = 0;
  double ttft_median_ape = 0, decode_median_ape = 0;
};

// Reads the per-request CSV (header must match request_csv_header()); ConfigError on bad input.
std::vector<RequestRecord> read_request_csv(const std::filesystem::path& path);
// Fits one scenario's records (scenarios are separate engine configurations with their own timelines).
EngineFit fit_engine(const std::vector<RequestRecord>& records, int scenario = 0);
std::string engine_fit_yaml(const EngineFit& fit, const std::string& source);

}  // namespace servetwin::calibrate
