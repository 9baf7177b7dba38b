// libFuzzer target: scenario YAML files (`predict --scenario FILE`).
#include "fuzz/fuzz_input_file.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/scenario/scenario_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    servetwin::load_scenario_file(servetwin::fuzz::write_input("scenario.yaml", data, size));
  } catch (const servetwin::ConfigError&) {
  }
  return 0;
}
