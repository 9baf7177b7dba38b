#pragma once
// Which prompt-batching rule produced a DistServe vLLM run, read from its per-request records
// (../shared/validation/distserve/opt-13b-sharegpt/<name>.exp, format in that folder's README).
//
// vLLM v0.2.2-0.3.3 pads a prompt batch to its longest prompt and admits at most max_paddings (256)
// pad tokens per batch; v0.1.7 concatenates prompts unpadded (vllm_scheduling.md §1.1 c). DistServe's
// baseline is one of the two (§0), so each run is told apart by the prompts that got their first
// token in the same prefill step: their first-token times lie within a fraction of a millisecond
// (per-sequence output processing, ~0.35 ms apart), while two steps are at least one forward pass
// of OPT-13B (>= ~18 ms) apart.
#include <cstdint>
#include <filesystem>

namespace servetwin {

struct PrefillBatchFingerprint {
  int batches = 0;                  // prefill steps that held more than one prompt
  std::int64_t max_pad_tokens = 0;  // largest (prompts x longest - sum of prompt lengths) over them
};

// Steps closer than this are one step (see above).
inline constexpr double kSameStepGapS = 0.003;

// Throws ConfigError naming the file when it cannot be read or holds no records.
PrefillBatchFingerprint fingerprint_prefill_batches(const std::filesystem::path& exp_file);

}  // namespace servetwin
