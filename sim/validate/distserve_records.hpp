#pragma once
// What a DistServe vLLM run's per-request records (../shared/validation/distserve/opt-13b-sharegpt/
// <name>.exp, format in that folder's README) say about the engine that produced them.
//
// 1. Which prompt-batching rule ran. vLLM v0.2.2-0.3.3 pads a prompt batch to its longest prompt and
//    admits at most max_paddings (256) pad tokens per batch; v0.1.7 concatenates prompts unpadded
//    (vllm_scheduling.md §1.1 c). A batch beyond the preset's max_paddings means the run had a larger one
//    (DistServe's launcher passed 524288 before 2024-04-22; sim/validate/row_load.cpp). Prompts prefilled in
//    one step get their first-token times a fraction of a millisecond apart (per-sequence output
//    processing, ~0.35 ms), while two steps are at least one forward pass of OPT-13B (>= ~18 ms) apart.
// 2. How many KV blocks the running requests held. A request holds ceil((prompt + generated) / block)
//    blocks from its first token to its completion; tokens arrive evenly over that span (one per step),
//    so the records give the server's KV occupancy over time. Under overload, FCFS admission with a
//    watermark keeps the cache full, so the peak bounds the engine's block count from below.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace servetwin {

struct DistServeRecord {
  std::int64_t prompt_len = 0, output_len = 0;
  double issue_s = 0, first_token_s = 0, complete_s = 0;  // the client's clock
};

// Throws ConfigError naming the file when it cannot be read or holds no records.
std::vector<DistServeRecord> read_distserve_records(const std::filesystem::path& exp_file);

struct PrefillBatchFingerprint {
  int batches = 0;                  // prefill steps that held more than one prompt
  std::int64_t max_pad_tokens = 0;  // largest (prompts x longest - sum of prompt lengths) over them
};

// First tokens closer than this came from one step (see above).
inline constexpr double kSameStepGapS = 0.003;

PrefillBatchFingerprint fingerprint_prefill_batches(const std::vector<DistServeRecord>& records);

// The most KV blocks the requests that had their first token held at once, sampled every
// `sample_s` seconds.
std::int64_t peak_held_kv_blocks(const std::vector<DistServeRecord>& records, std::int64_t block_size,
                                 double sample_s = 0.25);

}  // namespace servetwin
