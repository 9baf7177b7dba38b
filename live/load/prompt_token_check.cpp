#include "live/load/prompt_token_check.hpp"

#include <algorithm>
#include <cstdlib>

namespace servetwin::live {

nlohmann::json prompt_token_check(const std::vector<LiveRecord>& records, int stage, const PromptTokenPlan* plan) {
  std::int64_t counted = 0, not_counted = 0, mismatches = 0, requested_sum = 0, server_sum = 0, max_abs_diff = 0;
  std::int64_t diff_sum = 0;
  nlohmann::json examples = nlohmann::json::array();
  for (const auto& r : records) {
    if (r.rec.stage != stage || r.warmup) continue;
    if (r.rec.input_tokens <= 0) {  // failed before the server counted, or a server that does not say
      ++not_counted;
      continue;
    }
    ++counted;
    requested_sum += r.requested_input_tokens;
    server_sum += r.rec.input_tokens;
    const std::int64_t diff = r.rec.input_tokens - r.requested_input_tokens;
    if (diff == 0) continue;
    ++mismatches;
    diff_sum += diff;
    max_abs_diff = std::max(max_abs_diff, std::abs(diff));
    if (examples.size() < kPromptCheckExamples) {
      examples.push_back({{"request_id", r.rec.request_id},
                          {"requested", r.requested_input_tokens},
                          {"server", r.rec.input_tokens}});
    }
  }
  nlohmann::json out = {{"method", plan != nullptr ? plan->method : "dataset"},
                        {"requests_counted", counted},
                        {"requests_not_counted", not_counted},
                        {"requested_tokens", requested_sum},
                        {"server_tokens", server_sum},
                        {"mismatches", mismatches},
                        {"max_abs_diff_tokens", max_abs_diff},
                        {"mean_diff_tokens", counted > 0 ? static_cast<double>(diff_sum) / static_cast<double>(counted) : 0.0},
                        {"mismatch_examples", examples}};
  if (plan != nullptr) out["offset_tokens"] = plan->offset_tokens;
  return out;
}

}  // namespace servetwin::live
