#pragma once
// The designed request set of `servetwin calibrate probe` (docs/calibration.md, "Probe an endpoint"):
// each phase isolates one cost so that `calibrate fit` can solve for it.
//  - prefill: one request at a time (idle engine), prompt lengths spread over the model's range,
//    2 output tokens: TTFT vs prompt tokens = API + one prefill step (per token, per token pair);
//  - decode: closed loop of c users (1, 2, 4, ... max) with short fixed prompts and fixed outputs, several
//    rounds per stage: the inter-token time vs the batch in decode;
//  - decode-context: the same batches at long prompts (as long as the KV cache holds at that batch):
//    the inter-token time vs the context held in the batch, so that per-step, per-sequence and
//    per-context-token costs can be told apart;
//  - burst: many requests at once: how many the server runs together (its admission limit);
//  - reference (only with --reference-dataset): lone requests of a given shape, one per pass: the
//    server speed that the loop's drift sentinels (the same shape) are compared with.
// The closed-loop decode stages (decode, decode-context, reference) run interleaved: one round of every
// stage per pass, several passes spread over the probe (interleaved_decode_schedule), so that each
// stage's median averages over the server's slow speed changes (tens of seconds, 10-30 % on a shared
// 2-core VM: docs/real-engines.md, "Server drift") instead of sampling one window of a few seconds.
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
  std::int64_t requests_per_stage = 0;     // per stage (burst: the whole burst); 0 = rounds x c
  std::int64_t warmup_per_stage = 0;
  // Closed-loop stages with requests_per_stage 0: per_stage_input_tokens[i] is stage i's prompt length
  // (empty: input_tokens for every stage).
  std::vector<std::int64_t> per_stage_input_tokens;
};

// Closed-loop rounds of c users measured per decode stage (at scale 1), after one warm-up round: the
// least number of interleaved passes (decode_passes may add more when the budget allows).
constexpr double kDecodeRounds = 3;
// Share of the budget left after the length check that the interleaved decode passes aim to span: the
// longer the span, the more of the server's slow speed changes each stage's median averages over
// (300 s budget: ~90 s of passes). Chosen from the drift's measured time scale (tens of seconds), before
// any loop was scored with it.
constexpr double kDecodeSpanShare = 0.3;
// At most this many passes (bounds probe.json's size and the runner start-ups).
constexpr int kMaxDecodePasses = 24;
// Share of the KV cache the long-prompt decode stages may fill (the rest is slack for the prompt
// lengths, which are only as exact as the tokens-per-word estimate): no preemption in the probe. The
// same share of one step's token budget bounds a round's prompts, so that a round's prefills end in one
// step and its users decode in step (a prefill chunked over two steps staggers the rounds).
constexpr double kDecodeKvShare = 0.7;

struct ProbeDesignOptions {
  std::int64_t max_context_tokens = 2048;  // the server's max model length (prompt + output)
  int max_concurrency = 16;                // largest decode batch to probe
  int burst_requests = 48;
  std::int64_t kv_tokens = 0;              // the server's KV cache in tokens (0 = unknown: not limited)
  std::int64_t kv_block_tokens = 16;       // its block size (KV is allocated in whole blocks)
  // Prompt tokens one step may take (vLLM's max_num_batched_tokens; not observable from outside: 2048
  // is the API server's default on CPU and small GPUs, a larger budget only makes the cut stricter).
  std::int64_t step_token_budget = 2048;
  double scale = 1.0;                      // request counts x scale (>= 1 request each), from the budget
  // The reference phase's request shape (--reference-dataset's first sample); 0 = no reference phase.
  std::int64_t reference_input_tokens = 0, reference_output_tokens = 0;
};

std::vector<ProbePhase> design_probe(const ProbeDesignOptions& o);

// Rough wall time the design needs, from the first request's measured step times: used to scale
// the request counts to the budget. decode_step_s: one decode step at batch 1; prefill_s_per_token.
// scale: the design's (decode stages run decode_rounds(scale) rounds after their warm-up round).
double estimate_probe_s(const std::vector<ProbePhase>& phases, double decode_step_s, double prefill_s_per_token, double scale);

// Measured rounds of a closed-loop decode stage at a design scale: kDecodeRounds x scale, at least 1.
std::int64_t decode_rounds(double scale);

// Whether a phase's stages run in the interleaved passes (closed-loop stages of whole rounds).
bool is_interleaved(const ProbePhase& p);

// One round of one interleaved stage: phases[phase].concurrency[stage], in pass `pass` (0-based); the
// first pass's rounds of decode stages come after a warm-up round of the same load.
struct DecodeRound {
  std::size_t phase = 0, stage = 0;
  int pass = 0;
  bool warmup = false;
};

// The interleaved order: pass after pass, each pass one round of every interleaved stage in design order
// (decode c1, c2, ..., decode-context c1, ..., reference), so that a stage's rounds are spread over the
// whole decode part of the probe rather than run back to back.
std::vector<DecodeRound> interleaved_decode_schedule(const std::vector<ProbePhase>& phases, int passes);

// Wall time of one pass (one round of every interleaved stage), estimated as estimate_probe_s does.
double estimate_decode_pass_s(const std::vector<ProbePhase>& phases, double decode_step_s, double prefill_s_per_token);

// Passes to run: at least decode_rounds(scale); more while they fit both the span the passes should
// cover (span_s) and the spare budget (spare_s: what the design at `scale` leaves unused); at most
// kMaxDecodePasses.
int decode_passes(double scale, double pass_s, double span_s, double spare_s);

// `count` prompts of about `tokens` tokens each (words x tokens_per_word), random words from a
// fixed English word list, seeded: no two prompts share a leading word run (no prefix-cache hits).
Dataset make_probe_dataset(const std::string& name, const std::vector<std::int64_t>& tokens, std::int64_t count,
                           std::int64_t output_tokens, double tokens_per_word, std::uint64_t seed);

}  // namespace servetwin::live
