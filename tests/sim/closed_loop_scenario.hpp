#pragma once
// Shared by tests that run one preset on one deployment: a closed loop of fixed-length requests.
#include <cstdint>
#include <string>

#include "sim/scenario/scenario.hpp"

namespace servetwin::testing_scenarios {

inline Scenario closed_loop_scenario(const std::string& model, const std::string& gpu, const std::string& preset,
                                     std::int64_t input_tokens, std::int64_t output_tokens, int users,
                                     double duration_s) {
  Scenario s;
  s.name = preset;
  s.deployment.model = model;
  s.deployment.gpu = gpu;
  s.deployment.tp = 1;
  s.deployment.engine = preset;
  s.fixed_input_tokens = input_tokens;
  s.fixed_output_tokens = output_tokens;
  s.load.type = "closed";
  s.load.levels = {static_cast<double>(users)};
  s.duration_s = duration_s;
  return s;
}

}  // namespace servetwin::testing_scenarios
