#pragma once
// Writes a plan (planner.hpp's plan.json document): the ranked table with each rejected candidate's
// reason, plan.csv (one row per candidate: ranked first, then rejected in grid order) and plan.json.
#include <filesystem>
#include <iosfwd>
#include <nlohmann/json.hpp>

namespace servetwin {

void print_plan_table(std::ostream& os, const nlohmann::json& plan);
void write_plan_csv(const std::filesystem::path& path, const nlohmann::json& plan);
// plan.json, plan.csv, pareto_throughput.csv and pareto_cost.csv in `dir`.
void write_plan_outputs(const std::filesystem::path& dir, const nlohmann::json& plan);

// "key=value;key=value" of a deployment's engine overrides ("-" when none).
std::string engine_set_text(const nlohmann::json& deployment);
// RFC 4180 quoting when needed.
std::string csv_field(const std::string& s);

}  // namespace servetwin
