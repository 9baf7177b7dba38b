#pragma once
// A published row as a simulator scenario (or the reason it cannot be one). map_row composes the steps, each in
// its own file: row_preset (which engine preset), row_deployment (GPUs, replicas, precision, engine settings),
// row_load (arrivals or batch) and row_metrics (what each compared column is predicted from).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"
#include "sim/validate/validation_csv.hpp"
#include "sim/validate/validation_policy.hpp"

namespace servetwin {

class Catalog;

struct RowMapping {
  std::optional<Scenario> scenario;  // empty when unsupported
  std::string reason;                // why unsupported
  std::string engine_preset;
  std::string engine_preset_version;  // the preset's `version` (which engine era models the row)
  std::string engine_evidence;        // what in the row's own records chose a setting (empty: none)
  // What reading the row's deployment cells chose (an alias, a default GPU, a raised engine limit), one line each.
  std::vector<std::string> notes;
  std::string fit_set;               // the preset's fitted_on set ("none" when nothing fitted)
  bool in_fit_set = false;           // the row belongs to the preset's fit set: run, never scored
  // num_gpus = replicas x tp: the scenario's deployment is one replica; validate runs `replicas` of them behind
  // a round-robin router (sim/plan/replica_router.hpp) under the row's whole load.
  int replicas = 1;
  // The defaults and shapes the load step chose (no duration -> request count, length shape, waves, replicas);
  // empty when the row stated everything. In the report's row as "load_note".
  std::string load_note;
  // Price per hour for a `usd_per_1m_tokens` column: the row's own `instance_usd_per_h`, else the
  // catalog's on-demand price of its instance; 0 = no price, the column is not compared.
  double usd_per_h = 0;
  // Where each metric's prediction comes from (e.g. itl_mean_ms -> per-request mean for
  // inference-perf sources), for the report.
  std::map<std::string, std::string> metric_source;
};

// Maps a row to a scenario. `data_dir` is the CSV's folder (a source's replay files are found relative to
// it). Never throws for a row it cannot map: it returns the reason instead.
RowMapping map_row(const Catalog& catalog, const ValidationPolicy& policy, const ValidationRow& row,
                   const std::filesystem::path& data_dir);

}  // namespace servetwin
