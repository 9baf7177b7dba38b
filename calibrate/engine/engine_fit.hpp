#pragma once
// Engine overheads from a run's per-request records (the CSV of sim/metrics/request_record.hpp,
// written identically by the live runner and the simulator).
//
// Model (continuous batching, one token per running request per decode step):
// Every step costs step_ns + per_seq_step_ns x its sequences + prefill_ns_per_token x its prompt tokens
// (the simulator's cost model: sim/cost/cost_model.cpp, serial CPU = cpu_step + total_seqs x cpu_seq):
//   TTFT of a request arriving at an idle engine = per_request_ns + its prefill step
//                                                  (step_ns + per_seq_step_ns x seqs + prefill x tokens)
//   decode span (first token -> finish)           = step_ns * (decode steps + prefill steps interleaved)
//                                                 + per_seq_step_ns * (sum over its decode steps of batch size
//                                                                      + sequences of interleaved prefills)
//                                                 + prefill_ns_per_token * input tokens of interleaved prefills
// Prefill steps (prefill-only steps: vLLM V0, TGIS) are the first-token times, those within a clock
// tolerance (a quarter of the shortest mean decode interval) being one step; interleaved ones are
// those inside the span. The batch-size sum counts, for each of the request's decode-step messages
// (stream message times, when given), the requests in decode at that time; without messages it is
// estimated from the overlap of decode spans. All four unknowns are solved in one least-squares
// system (relative weighting), constrained non-negative.
#include <cstdint>
#include <filesystem>
#include <map>
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
  std::size_t message_timed = 0;   // decode rows whose batch sum came from stream message times
  double ttft_median_ape = 0, decode_median_ape = 0;
};

// Reads the per-request CSV (header must match request_csv_header()); ConfigError on bad input.
std::vector<RequestRecord> read_request_csv(const std::filesystem::path& path);
// Per request id: the sorted times of its stream messages carrying tokens 2.. (one per decode step),
// from the live runner's messages.csv (request_id,seq,t_ns,generated_tokens; same clock as requests.csv).
using MessageTimes = std::map<std::uint64_t, std::vector<std::int64_t>>;
MessageTimes read_message_csv(const std::filesystem::path& path);
// Fits one scenario's records (scenarios are separate engine configurations with their own timelines).
// messages (optional): decode-step times per request; used where a request has one per output token after the first.
// context (optional): requests that occupied the engine but are not fitted (the live runner's warmup
// requests): they count in the idle test, the prefill steps and the batch sizes, but give no rows.
EngineFit fit_engine(const std::vector<RequestRecord>& records, int scenario = 0, const MessageTimes* messages = nullptr,
                     const std::vector<RequestRecord>* context = nullptr);
std::string engine_fit_yaml(const EngineFit& fit, const std::string& source);

}  // namespace servetwin::calibrate
