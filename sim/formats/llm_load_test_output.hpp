#pragma once
// llm-load-test v2 output JSON (openshift-psap/llm-load-test utils.write_output: {results, config,
// summary}; one file per concurrency; field list in docs/result-formats.md). The same layout as
// `servetwin load` writes into DIR/llm-load-test/.
#include <nlohmann/json.hpp>
#include <string>

#include "sim/formats/live_run_reader.hpp"

namespace servetwin::formats {

bool looks_like_llm_load_test_output(const nlohmann::json& j);

// One closed-loop stage: results[] (user_id, input_tokens, output_tokens, start_time,
// first_token_time, end_time in epoch seconds, error_code/error_text), users =
// config.load_options.concurrency (else the distinct user ids), window = first start + duration.
LiveRun read_llm_load_test_output(const nlohmann::json& j, const std::string& file);

}  // namespace servetwin::formats
