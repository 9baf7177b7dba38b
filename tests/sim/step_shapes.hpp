#pragma once
// Step shapes the cost-model tests share: a decode-only step of 64 sequences at 2,000 tokens of context,
// and a one-sequence 1,000-token prefill.
#include <cstdint>

#include "sim/cost/step_shape.hpp"

namespace servetwin::testing {

inline StepShape decode_step_64x2000() {
  StepShape s;
  s.decode_seqs = 64;
  s.decode_kv_tokens = std::int64_t{64} * 2000;
  s.lm_head_tokens = 64;
  return s;
}

inline StepShape prefill_step_1000() {
  StepShape s;
  s.prefill_seqs = 1;
  s.prefill_tokens = 1000;
  s.prefill_attn_pairs = 1000 * 500.5;
  s.lm_head_tokens = 1;
  return s;
}

}  // namespace servetwin::testing
