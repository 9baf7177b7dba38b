#pragma once
// Step 3 of mapping a published row: the load it ran under, for the whole deployment (several replicas share it
// through a router): Poisson arrivals (a catalog workload, a length shape scaled to the row's means, or the
// source's own per-request replay), a closed loop (ordinary or in synchronised waves), an offline burst or a
// static batch. A row without duration_s runs a default request count (docs/validation.md, "Row defaults").
#include <filesystem>
#include <string>

#include "sim/catalog/specs.hpp"
#include "sim/validate/row_mapping.hpp"

namespace servetwin {

// Sets `s`'s workload, load and duration (and for static batches and replays the engine settings they imply) and
// `m.load_note` (the defaults and shapes it chose); returns the reason, naming the field and the allowed values,
// when the row's load cannot be simulated, else "". `m.replicas` must be set.
std::string set_row_load(const Catalog& catalog, const ValidationPolicy& policy, const ValidationRow& row,
                         const EngineSpec& spec, const std::filesystem::path& data_dir, const std::string& load_type,
                         Scenario& s, RowMapping& m);

// The load type whose engine presets and settings a row uses: a closed loop in waves (`closed_waves`) is a closed
// loop to the engine.
std::string load_type_for_presets(const std::string& load_type);

}  // namespace servetwin
