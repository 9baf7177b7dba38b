#pragma once
// Step 3 of mapping a published row: the load it ran under, per replica: Poisson arrivals (a catalog workload,
// the row's mean lengths, or the source's own per-request replay), a closed loop, an offline burst or a static
// batch.
#include <filesystem>
#include <string>

#include "sim/catalog/specs.hpp"
#include "sim/validate/row_mapping.hpp"

namespace servetwin {

// Sets `s`'s workload, load and duration (and for static batches and replays the engine settings they imply);
// returns the reason when the row's load cannot be simulated, else "". `m.replicas` must be set.
std::string set_row_load(const Catalog& catalog, const ValidationPolicy& policy, const ValidationRow& row,
                         const EngineSpec& spec, const std::filesystem::path& data_dir, const std::string& load_type,
                         Scenario& s, RowMapping& m);

}  // namespace servetwin
