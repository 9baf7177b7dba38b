#pragma once
// `servetwin predict|load --out DIR --formats LIST`: besides summary.json and requests.csv, one file
// per stage in each chosen foreign format (docs/result-formats.md):
//   DIR/vllm-bench/<name>.json   vLLM `bench serve --save-result --save-detailed`
//   DIR/llm-d/<name>.json        llm-d benchmark report v0.2 (JSON form)
// <name> is scenario<i>-stage<k> for predict, stage<k> for load.
#include <filesystem>
#include <string>
#include <vector>

#include "sim/metrics/request_record.hpp"
#include "sim/metrics/stage_metrics.hpp"
#include "sim/scenario/scenario.hpp"

namespace servetwin::formats {

enum class OutFormat { kVllmBench, kLlmd };

// "vllm-bench", "llm-d", "all", comma-separated. Throws ConfigError naming the allowed values.
std::vector<OutFormat> parse_out_formats(const std::string& list);

// What the foreign formats say about a stage beyond its records and metrics.
struct StageFormatContext {  // NOLINT(bugprone-exception-escape): nlohmann::json moves, as ScenarioResult (summary.hpp)
  std::string scenario_name;
  int stage = 0;
  nlohmann::json deployment;  // resolved model/GPU/TP/engine (object; may be empty)
  nlohmann::json load;        // the stage's load
  std::string model_id;       // vLLM's model_id (empty: the deployment's model)
  std::string date;           // vLLM's "YYYYmmdd-HHMMSS"; result_date_now()
};

std::string result_date_now();

// One stage in each chosen format, as DIR/<format dir>/<name>.json.
void write_stage_formats(const std::filesystem::path& dir, const std::string& name,
                         const std::vector<RequestRecord>& records, const StageMetrics& metrics,
                         const StageFormatContext& ctx, const std::vector<OutFormat>& formats);

// Writes the chosen formats from the runs' in-memory records and metrics (records must be kept).
void write_foreign_formats(const std::filesystem::path& dir, const std::vector<ScenarioRun>& runs,
                           const std::vector<OutFormat>& formats);

}  // namespace servetwin::formats
