#pragma once
// The TGI batch planner's rules and factory (tgi_planner.cpp; plans against RouterState).
#include <cstdint>
#include <memory>

#include "sim/engine/batch_planner.hpp"

namespace servetwin {

struct TgiRules {
  std::int64_t max_batch_prefill_tokens = 4096;
  std::int64_t max_waiting_tokens = 20;
  double waiting_served_ratio = 1.2;
};

// TGI's queue rounds lengths up to its 16-token KV block.
[[nodiscard]] constexpr std::int64_t tgi_ceil16(std::int64_t n) { return (n + 15) / 16 * 16; }
// The tokens a request holds from its prefill to its end: its full length, in 16-token blocks.
[[nodiscard]] inline std::int64_t tgi_reserved_tokens(const SimRequest& r) {
  return tgi_ceil16(r.in.input_tokens + r.max_new_tokens - 1);
}

std::unique_ptr<BatchPlanner> make_tgi_planner(const TgiRules& rules);

}  // namespace servetwin
