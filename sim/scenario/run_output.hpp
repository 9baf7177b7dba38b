#pragma once
// Writes a run's outputs in the shared schema (docs/output-schema.md): summary.json and
// requests.csv, and prints the human tables.
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/metrics/summary.hpp"
#include "sim/scenario/scenario.hpp"

namespace servetwin {

nlohmann::json stage_to_json(const StageResult& st);
std::vector<ScenarioResult> to_scenario_results(const std::vector<ScenarioRun>& runs);
// summary.json + requests.csv (records of every scenario and stage, in order).
void write_run_outputs(const std::filesystem::path& dir, const RunInfo& info, const std::vector<ScenarioRun>& runs);
// Per scenario: one row per stage. Then a cost table at `cost_level` (the article's Table 2 uses 10).
// No cost table when no scenario has a stage at `cost_level`.
void print_run_tables(std::ostream& os, const std::vector<ScenarioRun>& runs, double cost_level);
// Why the run shows the deployment cannot serve its load ("" when it can): a scenario that cannot
// run (e.g. does not fit), or a stage in which no request completed and some were rejected or
// failed. The CLI exits 3 (kExitCannotServe) with this text.
std::string cannot_serve_reason(const std::vector<ScenarioRun>& runs);

}  // namespace servetwin
