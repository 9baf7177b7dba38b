// libFuzzer target: live run records (`validate --live DIR`): the input up to its first NUL byte is
// summary.json, the rest requests.csv (and, the same bytes, schedule.csv); the readers run.
#include <algorithm>

#include "fuzz/fuzz_input.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/formats/live_run_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint8_t* split = std::find(data, data + size, std::uint8_t{0});
  const std::size_t summary_size = static_cast<std::size_t>(split - data);
  const std::size_t rest = size - summary_size - (split == data + size ? 0 : 1);
  servetwin::LiveRunTexts texts;
  texts.summary_json = servetwin::fuzz::as_text(data, summary_size);
  texts.requests_csv = servetwin::fuzz::as_text(data + size - rest, rest);
  texts.schedule_csv = texts.requests_csv;
  try {
    (void)servetwin::parse_request_csv(*texts.requests_csv, "fuzz-input/requests.csv");
  } catch (const servetwin::ConfigError&) {
  }
  try {
    (void)servetwin::parse_live_run("fuzz-input", texts);
  } catch (const servetwin::ConfigError&) {
  }
  return 0;
}
