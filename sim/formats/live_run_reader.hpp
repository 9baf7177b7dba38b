#pragma once
// Reads the output directory of a live run (`servetwin load --out DIR`): summary.json (schema
// version, resolved config, per-stage load and measurement window) and the per-request CSVs
// (requests.csv, warmup_requests.csv). Used by `servetwin validate --live` to re-simulate the run.
// Lives in sim/ and knows only the file formats (docs/output-schema.md), never live/ code.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/formats/live_schedule_reader.hpp"
#include "sim/metrics/request_record.hpp"

namespace servetwin {

// clang-tidy 14 follows nlohmann::json's move constructor (declared noexcept) into throwing code
// paths and flags this struct's implicit moves; nothing can escape them (false positive).
// NOLINTNEXTLINE(bugprone-exception-escape)
struct LiveStage {
  int index = 0;
  std::string label;          // "concurrency=8" / "rate=2.5"
  nlohmann::json load;        // the stage's load as the runner recorded it
  bool closed_loop = true;    // load has "concurrency"
  TimeNs window_start_ns = 0;
  TimeNs window_end_ns = 0;   // window = [start, end), ns since the run's start
};

struct LiveRun {
  std::filesystem::path dir;
  nlohmann::json resolved_config;      // scenarios[0].resolved_config of summary.json
  bool partial = false;
  std::vector<LiveStage> stages;
  std::vector<RequestRecord> requests;  // requests.csv (measured)
  std::vector<RequestRecord> warmup;    // warmup_requests.csv (sent before each window; may be empty)
  PromptOfRequest prompt_of;           // schedule.csv: the dataset prompt each request sent (may be empty)
  // Runs read from another tool's file (sim/formats): which format, the model the file names
  // (empty if none), and where each re-simulation input came from (field -> "FILE: field ...").
  std::string format = "servetwin-load-dir";
  std::string model_hint;
  nlohmann::json field_sources = nlohmann::json::object();
};

// Throws ConfigError naming the file (and line / JSON field) for: a missing directory or file,
// malformed JSON or CSV, a summary.json whose schema_version this build does not read, a summary
// not produced by the live runner, or a missing required field.
LiveRun read_live_run(const std::filesystem::path& dir);

// The files of a live run directory, read (read_live_run reads them and calls parse_live_run, which
// names dir/summary.json, dir/requests.csv, ... in errors).
struct LiveRunTexts {
  std::string summary_json;
  std::optional<std::string> requests_csv;  // absent: an error, named after the summary's checks
  std::optional<std::string> warmup_csv;  // absent in older runs
  std::optional<std::string> schedule_csv;  // absent in older runs
};
LiveRun parse_live_run(const std::filesystem::path& dir, const LiveRunTexts& texts);

// Reads a per-request CSV in the shared schema (request_csv_header()). Throws ConfigError naming
// file and line.
std::vector<RequestRecord> read_request_csv(const std::filesystem::path& path);
// The same from the file's text; `file` names it in errors (read_request_csv calls this).
std::vector<RequestRecord> parse_request_csv(const std::string& text, const std::string& file);

}  // namespace servetwin
