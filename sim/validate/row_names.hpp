#pragma once
// Reading a published row's deployment cells as other people write them (rules: configs/validation/
// row_deployment.yaml): the GPU label ("A100", "NVIDIA H100 80GB HBM3"), the model id ("meta-llama/Llama-3.1-70B-
// Instruct-FP8"), the precision cell, and an engine version that names a branch ("main").
#include <string>
#include <vector>

#include "sim/validate/row_deployment_policy.hpp"
#include "sim/validate/validation_csv.hpp"

namespace servetwin {

class Catalog;

// A cell read as a catalog name (value) with what the reading chose (note, empty when the cell was exact), or the
// reason it cannot be read (reason non-empty, value empty).
struct CellReading {
  std::string value;
  std::string note;
  std::string reason;
  std::string weight_dtype;  // model ids: "fp8" or "fp4" when a word of the id names those weights, else ""
};

CellReading read_gpu_label(const Catalog& catalog, const RowDeploymentPolicy& policy, const ValidationRow& row);
CellReading read_model_id(const Catalog& catalog, const RowDeploymentPolicy& policy, const std::string& id);
// The precision cell as fp16 | bf16 | fp8 | fp4 ("" = unstated), or the reason naming the allowed spellings.
CellReading read_precision(const RowDeploymentPolicy& policy, const std::string& cell);

// `resolved` = `row` with its gpu and model cells replaced by catalog names, the precision cell filled from an
// FP8 model id when empty, and a branch-named engine_version emptied (= unstated). Appends what it chose to
// `notes`; returns the reason when the row cannot be deployed (unknown GPU or model, quantized weights, GPU without
// a calibrated profile), else "".
std::string resolve_deployment_cells(const Catalog& catalog, const RowDeploymentPolicy& policy,
                                     const ValidationRow& row, ValidationRow& resolved,
                                     std::vector<std::string>& notes);

}  // namespace servetwin
