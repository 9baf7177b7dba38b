#pragma once
// schedule.csv of a live run (`servetwin load --out DIR`): which dataset prompt each request sent.
// `validate --live` needs it to replay prompt reuse: llm-load-test-style users each walk the same
// dataset, so the same prompt is sent again and again, and an engine with a prefix cache (vLLM V1)
// serves the repeat's full blocks from the cache. Older runs lack the `sample_index` column (or the
// file): then no request is known to repeat another.
#include <cstdint>
#include <string>
#include <unordered_map>

namespace servetwin {

// request_id -> dataset sample index (>= 0; synthetic prompts, -1 in the file, are left out).
using PromptOfRequest = std::unordered_map<std::uint64_t, std::int64_t>;

// Throws ConfigError naming `file`, line and column for a malformed line; a header without
// `request_id` or `sample_index` gives an empty map.
PromptOfRequest parse_schedule_prompts(const std::string& text, const std::string& file);

}  // namespace servetwin
