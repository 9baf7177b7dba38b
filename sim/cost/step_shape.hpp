#pragma once
// The shape of one engine iteration (forward pass), as aggregates the cost model needs.
// Engines build it; the cost model never sees requests.
#include <cstdint>

namespace servetwin {

struct StepShape {
  // Prefill work in this step (whole prompts or chunks).
  std::int64_t prefill_seqs = 0;
  std::int64_t prefill_tokens = 0;        // new prompt tokens computed (excludes prefix-cache hits)
  double prefill_attn_pairs = 0;          // causal query-key pairs: sum_i new_i * (past_i + (new_i + 1) / 2)
  // Decode work: one new token per sequence.
  std::int64_t decode_seqs = 0;
  std::int64_t decode_kv_tokens = 0;      // KV entries read by decode attention (sum of context lengths)
  // Padded batches (HF-transformers path): GEMMs and attention run on bs x max_len, padding included.
  bool padded = false;
  std::int64_t padded_prefill_tokens = 0; // bs * max_input when padded
  std::int64_t padded_decode_kv_tokens = 0;
  // Tokens whose hidden state goes through the LM head (TGIS prefill: all prompt tokens).
  std::int64_t lm_head_tokens = 0;
  // Engine-specific device copies, in per-GPU bytes moved (read + write), e.g. TGIS's per-step
  // torch.cat rebuild of the contiguous KV cache.
  double copy_bytes_per_gpu = 0;
  // Sequences in the step (for per-sequence CPU costs such as sampling and detokenisation).
  std::int64_t total_seqs() const { return prefill_seqs + decode_seqs; }
  std::int64_t gemm_tokens() const {
    return (padded && padded_prefill_tokens > 0 ? padded_prefill_tokens : prefill_tokens) + decode_seqs;
  }
};

// Time of one step, split by where it goes. All in nanoseconds.
struct StepCost {
  double gemm_ns = 0;         // linear layers incl. LM head
  double attention_ns = 0;    // prefill attention FLOPs + decode KV reads
  double elementwise_ns = 0;  // norms, rotary, activations, residuals
  double copy_ns = 0;         // engine-specific copies (KV concatenation)
  double comm_ns = 0;         // tensor-parallel all-reduce / all-gather
  double overhead_ns = 0;     // launch, framework and CPU time not hidden behind GPU work
  double total_ns = 0;
};

}  // namespace servetwin
