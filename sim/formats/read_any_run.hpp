#pragma once
// `servetwin validate --live PATH`: reads a run made by servetwin or by another tool, the format
// detected from the content (never the file name):
//   directory                       `servetwin load --out DIR` (summary.json + requests.csv)
//   {results, config, summary}      llm-load-test v2 output JSON
//   completed/request_throughput/.. vLLM `bench serve --save-result --save-detailed` JSON
//   {benchmarks: [{requests ...}]}  GuideLLM benchmarks JSON (v0.7.x)
//   {version: 0.2, results ...}     llm-d benchmark report v0.2 (YAML or JSON)
#include <filesystem>
#include <optional>
#include <string>

#include "sim/formats/llmd_report.hpp"
#include "sim/formats/live_run_reader.hpp"

namespace servetwin::formats {

struct AnyRun {
  std::string format;                 // see accepted_run_formats()
  std::optional<LiveRun> per_request; // every format but llm-d
  std::optional<LlmdStage> aggregate; // llm-d report (aggregate statistics only)
};

// The accepted formats, for error messages and docs.
const char* accepted_run_formats();

// Throws ConfigError naming the file: unreadable, not JSON/YAML, or none of the accepted formats
// (the message lists them), or a field the format's reader needs.
AnyRun read_any_run(const std::filesystem::path& path);

}  // namespace servetwin::formats
