#pragma once
// The designed request set of `servetwin calibrate probe` (docs/calibration.md, "Probe an endpoint"):
// each phase isolates one cost so that `calibrate fit` can solve for it.
//  - prefill: one request at a time (idle engine), prompt lengths spread over the model's range,
//    2 output tokens: TTFT vs prompt tokens = API + one prefill step (per token, per token pair);
//  - decode: closed loop of c users with short fixed prompts and fixed outputs: the inter-token time
//    vs the batch in decode;
//  - decode-context: the same at long prompts: the inter-token time vs the context held in the batch;
//  - burst: many requests at once: how many the server runs together (its admission limit).
// Prompts are random words, so the probe needs no tokenizer: a first request measures the server's
// tokens per word, the token counts the fit uses are the ones the server reports.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/workload/dataset.hpp"

namespace servetwin::live {

struct ProbePhase {
  std::string name, purpose;
  std::vector<std::int64_t> input_tokens;  // prompt lengths, cycled over the phase's requests
  std::int64_t output_tokens = 0;
  std::vector<int> concurrency;            // closed loop stages (empty: open-loop burst)
  double burst_rate_per_s = 0;             // open loop: all requests sent within ~0.1 s
  std::int64_t requests_per_stage = 0;     // per stage (burst: the whole burst)
  std::int64_t warmup_per_stage = 0;
};

struct ProbeDesignOptions {
  std::int64_t max_context_tokens = 2048;  // the server's max model length (prompt + output)
  int max_concurrency = 16;                // largest decode batch to probe
  int burst_requests = 48;
  double scale = 1.0;                      // request counts x scale (>= 1 request each), from the budget
};

std::vector<ProbePhase> design_probe(const ProbeDesignOptions& o);

// Rough wall time the design needs, from the first request's measured step times: used to scale
// the request counts to the budget. decode_step_s: one decode step at batch 1; prefill_s_per_token.
double estimate_probe_s(const std::vector<ProbePhase>& phases, double decode_step_s, double prefill_s_per_token);

// `count` prompts of about `tokens` tokens each (words x tokens_per_word), random words from a
// fixed English word list, seeded: no two prompts share a leading word run (no prefix-cache hits).
Dataset make_probe_dataset(const std::string& name, const std::vector<std::int64_t>& tokens, std::int64_t count,
                           std::int64_t output_tokens, double tokens_per_word, std::uint64_t seed);

}  // namespace servetwin::live
