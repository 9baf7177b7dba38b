// libFuzzer target: live run records (`validate --live DIR`): the input up to its first NUL byte is
// summary.json, the rest requests.csv; both readers run.
#include <algorithm>

#include "fuzz/fuzz_input_file.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/formats/live_run_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t* split = std::find(data, data + size, std::uint8_t{0});
  const std::size_t summary_size = static_cast<std::size_t>(split - data);
  const std::size_t rest = size - summary_size - (split == data + size ? 0 : 1);
  servetwin::fuzz::write_input("live/summary.json", data, summary_size);
  const auto csv = servetwin::fuzz::write_input("live/requests.csv", data + size - rest, rest);
  try {
    servetwin::read_request_csv(csv);
  } catch (const servetwin::ConfigError&) {
  }
  try {
    servetwin::read_live_run(csv.parent_path());
  } catch (const servetwin::ConfigError&) {
  }
  return 0;
}
