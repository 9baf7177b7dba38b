#pragma once
// `servetwin predict --out DIR --formats LIST`: besides summary.json and requests.csv, one file per
// scenario and stage in each chosen foreign format (docs/result-formats.md):
//   DIR/vllm-bench/scenario<i>-stage<k>.json   vLLM `bench serve --save-result --save-detailed`
//   DIR/llm-d/scenario<i>-stage<k>.json        llm-d benchmark report v0.2 (JSON form)
#include <filesystem>
#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace servetwin::formats {

enum class OutFormat { kVllmBench, kLlmd };

// "vllm-bench", "llm-d", "all", comma-separated. Throws ConfigError naming the allowed values.
std::vector<OutFormat> parse_out_formats(const std::string& list);

// Writes the chosen formats from the runs' in-memory records and metrics (records must be kept).
void write_foreign_formats(const std::filesystem::path& dir, const std::vector<ScenarioRun>& runs,
                           const std::vector<OutFormat>& formats);

}  // namespace servetwin::formats
