// libFuzzer target: the published-measurement CSV reader (calibrate/published/csv_table), every cell
// read as text and as a number.
#include <sstream>

#include "calibrate/published/csv_table.hpp"
#include "fuzz/fuzz_input.hpp"
#include "sim/catalog/catalog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(servetwin::fuzz::as_text(data, size));
  try {
    const auto t = servetwin::calibrate::CsvTable::parse(in, "fuzz-input/published.csv");
    if (t.has("load_value")) {
      const std::size_t col = t.column("load_value");
      for (std::size_t r = 0; r < t.rows(); ++r) {
        try {
          (void)t.number(r, col);
        } catch (const servetwin::ConfigError&) {
        }
      }
    }
  } catch (const servetwin::ConfigError&) {
  }
  return 0;
}
