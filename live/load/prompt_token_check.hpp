#pragma once
// After a run: did the prompts have the token count asked for, as the server counted them? Each
// measured request that the server answered with its prompt's token count (OpenAI usage.prompt_tokens,
// TGIS/Caikit input_token_count) is compared with the length asked for: the drawn synthetic length,
// or a dataset entry's own count. Written per stage to summary.json as "prompt_token_check".
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "live/load/prompt_tokens.hpp"
#include "live/load/transport.hpp"

namespace servetwin::live {

// How many mismatching requests the check lists by id.
inline constexpr std::size_t kPromptCheckExamples = 5;

// The check of `stage`'s records. `plan` is how synthetic prompts were built (null for a dataset,
// whose texts are sent as they are: method "dataset").
nlohmann::json prompt_token_check(const std::vector<LiveRecord>& records, int stage, const PromptTokenPlan* plan);

}  // namespace servetwin::live
