#pragma once
// Step 1 of mapping a published row: which engine preset models it, by the policy's rules
// (configs/validation: the row's source file first, then row_mapping.yaml).
#include <string>

#include "sim/validate/validation_csv.hpp"
#include "sim/validate/validation_policy.hpp"

namespace servetwin {

// The engine cell as written by hand in other people's CSVs ("vLLM", "TensorRT-LLM", "HF TGI"): lower-cased,
// spaces removed, the policy's spellings of each modelled engine folded onto its short name.
std::string canonical_engine(const ValidationPolicy& policy, const std::string& cell);
// The schema's load types, also under the policy's other spellings ("poisson", "closed", "static").
std::string canonical_load_type(const ValidationPolicy& policy, const std::string& cell);

struct PresetChoice {
  std::string preset;  // empty when no rule maps the row
  std::string reason;  // why not
};

// `engine` and `load_type` are the canonical forms of the row's cells.
PresetChoice choose_preset(const ValidationPolicy& policy, const ValidationRow& row, const std::string& engine,
                           const std::string& load_type);

}  // namespace servetwin
