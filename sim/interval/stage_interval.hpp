#pragma once
// A prediction's interval as output: the "interval" object every predicted stage carries (predict's
// summary.json, sweep.jsonl, plan) and validate's rows draw their bounds from (docs/output-schema.md):
//   {"level": 0.8, "bounds": {metric: [lo, hi]}, "out_of_evidence": bool, "reason": "...",
//    "regime": {...}, "pools": {metric family: pool}}
// Bounds are on the value a measurement would give; the point prediction is unchanged.
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/interval/interval_model.hpp"
#include "sim/scenario/scenario.hpp"

namespace servetwin {

// `metrics`: a flat object of predicted values (StageMetrics::to_json, a validate row's "predicted"); `cost`:
// the stage's cost object or null. Every column with a family (and usd_per_1m_*) gets bounds.
nlohmann::json interval_json(const IntervalModel& model, const StageRegime& regime, const nlohmann::json& metrics,
                             const nlohmann::json& cost, const EvidenceExclusion& ex = {});

// Sets StageResult::interval on every stage of every run that ran.
void add_stage_intervals(const Catalog& catalog, const IntervalModel& model, std::vector<ScenarioRun>& runs);

}  // namespace servetwin
