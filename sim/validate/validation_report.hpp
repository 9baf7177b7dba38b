#pragma once
// The report of `servetwin validate --data` (shape in docs/validation.md) from the mapped and simulated rows.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/interval/stage_regime.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/validate/row_mapping.hpp"

namespace servetwin {

// One row: how it mapped and what its simulation gave.
struct ValidationItem {
  ValidationRow row;
  RowMapping map;
  std::optional<StageResult> result;
  std::string run_error;
  std::optional<StageRegime> regime;  // set when the row ran (intervals are conditioned on it)
};

struct ValidationInputs {
  std::vector<ValidationItem> items;
  std::vector<std::string> files;
  std::map<std::string, std::vector<std::string>> not_compared;  // file -> columns validate does not know
};

nlohmann::json validation_report(const ValidationInputs& in);

}  // namespace servetwin
