#pragma once
// The summary JSON shared by every producer (docs/output-schema.md).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/metrics/stage_metrics.hpp"

namespace servetwin {

constexpr const char* kSummarySchemaVersion = "1.0";

struct RunInfo {
  std::string producer;       // "simulator" | "live"
  std::uint64_t seed = 0;
  bool partial = false;       // live run interrupted or failed before its planned end
  std::string partial_reason;
};

// One scenario = one configuration (model, hardware, engine, workload) run over its load stages.
// clang-tidy 14 follows nlohmann::json's move constructor (declared noexcept) into throwing code
// paths and flags this struct's implicit moves; nothing can escape them (false positive).
// NOLINTNEXTLINE(bugprone-exception-escape)
struct ScenarioResult {
  std::string name;
  nlohmann::json resolved_config;        // every setting that shaped the run, after defaults
  std::vector<nlohmann::json> stages;    // per stage: {"load": {...}, "metrics": {...}, ...extra}
};

// Builds {"schema_version", "tool": {name, version, git_sha}, "producer", "seed", "partial", "scenarios": [...]}.
nlohmann::json make_summary(const RunInfo& info, const std::vector<ScenarioResult>& scenarios);

// Writes JSON with 2-space indentation and a trailing newline, atomically (temp file + rename),
// so a reader never sees a half-written summary.
void write_json_file(const std::filesystem::path& path, const nlohmann::json& j);

}  // namespace servetwin
