#pragma once
// Step 2 of mapping a published row: where its engine ran (GPU or instance, TP, data-parallel replicas), in
// which precision, and the engine settings the policy and the row's notes add.
#include <string>

#include "sim/catalog/specs.hpp"
#include "sim/validate/row_mapping.hpp"

namespace servetwin {

// Fills `s.deployment` (model and engine already set) and `m.replicas`; returns the reason when the row cannot
// be deployed, else "".
std::string deploy_row(const Catalog& catalog, const ValidationPolicy& policy, const ValidationRow& row,
                       const GpuSpec& gpu, const EngineSpec& spec, const std::string& load_type, Scenario& s,
                       RowMapping& m);

}  // namespace servetwin
