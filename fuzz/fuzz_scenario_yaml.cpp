// libFuzzer target: scenario YAML files (`predict --scenario FILE`).
#include "fuzz/fuzz_input.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/scenario/scenario_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)servetwin::parse_scenario_text(servetwin::fuzz::as_text(data, size), "fuzz-input/scenario.yaml");
  } catch (const servetwin::ConfigError&) {
  }
  return 0;
}
