#pragma once
// Scenario files (configs/scenarios/*.yaml): one workload and load plan over one or more
// deployments. Strict: unknown keys and bad values are ConfigErrors naming file, line and key.
//
//   kind: scenario
//   name: seed-article-table2
//   workload: openorca-32          # or dataset: FILE / trace: FILE
//   duration_s: 240
//   seed: 42
//   load: {type: closed, levels: [1, 2, 4]}          # open: {type: open, levels: [2.5], arrival: poisson}
//   deployments:
//     - {model: meta-llama/Llama-2-7b-hf, instance: g5.2xlarge, tp: 1, engine: tgis-rhoai-2024q1}
#include <filesystem>
#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace servetwin {

std::vector<Scenario> load_scenario_file(const std::filesystem::path& path);
// The same from the file's text (both read the document through the same code): `path` names it in
// errors, gives the default name (its stem) and anchors relative dataset/trace paths.
std::vector<Scenario> parse_scenario_text(const std::string& text, const std::filesystem::path& path);

}  // namespace servetwin
