// libFuzzer target: the trace CSV reader (`predict --trace FILE`).
#include "fuzz/fuzz_input_file.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/workload/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    servetwin::load_trace_csv(servetwin::fuzz::write_input("trace.csv", data, size));
  } catch (const servetwin::ConfigError&) {
  }
  return 0;
}
