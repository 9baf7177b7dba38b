#pragma once
// vLLM `vllm bench serve --save-result --save-detailed` JSON (vllm/benchmarks/serve.py; field list in
// docs/result-formats.md): written from one stage's request records, and read back as a run that
// `servetwin validate --live` can re-simulate.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/metrics/request_record.hpp"
#include "sim/formats/live_run_reader.hpp"

namespace servetwin::formats {

struct VllmResultContext {
  std::string model_id;                     // model_id and tokenizer_id
  std::string backend = "servetwin";        // backend / endpoint_type
  std::string label;                        // label (vLLM: defaults to the backend)
  std::string date;                         // "YYYYmmdd-HHMMSS"
  nlohmann::json load;                      // the stage's load: {"concurrency"} or {"rate_per_s", "arrival"}
};

// One stage's records (any status) in vLLM's result layout: totals, throughputs, per-request arrays
// (input_lens, output_lens, ttfts, itls, latencies, start_times, errors, ...), and
// mean/median/std/p50/p90/p95/p99 of ttft, tpot, itl and e2el in ms, with vLLM's definitions.
// Per-token times are not recorded, so each request's `itls` are its (out - 1) equal gaps between
// first token and finish.
nlohmann::json vllm_bench_result_json(const std::vector<RequestRecord>& records, const VllmResultContext& ctx);

// True when the JSON has vLLM's result keys (detection for `validate --live FILE`).
bool looks_like_vllm_bench_result(const nlohmann::json& j);

// One stage. Needs the per-request arrays (`--save-detailed`); throws ConfigError naming the file
// and field otherwise. request_rate "inf" with max_concurrency N = closed loop of N slots;
// otherwise open loop at the recorded send times. Times are relative to the first send.
LiveRun read_vllm_bench_result(const nlohmann::json& j, const std::string& file);

}  // namespace servetwin::formats
