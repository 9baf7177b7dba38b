// libFuzzer target: the trace CSV reader (`predict --trace FILE`).
#include <sstream>

#include "fuzz/fuzz_input.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/workload/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(servetwin::fuzz::as_text(data, size));
  try {
    (void)servetwin::parse_trace_csv(in, "fuzz-input/trace.csv");
  } catch (const servetwin::ConfigError&) {
  }
  return 0;
}
