// libFuzzer target: catalog YAML files. The input is one entry file; its first byte picks the
// catalog kind (models, gpus, ...) so every kind's reader is exercised.
#include "fuzz/fuzz_input_file.hpp"
#include "sim/catalog/catalog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& kinds = servetwin::Catalog::kinds();
  const std::string kind = kinds[data[0] % kinds.size()];
  const auto dir = servetwin::fuzz::scratch_dir() / "catalog";
  std::filesystem::remove_all(dir);
  servetwin::fuzz::write_input("catalog/" + kind + "/entry.yaml", data + 1, size - 1);
  try {
    servetwin::Catalog::load(dir);
  } catch (const servetwin::ConfigError&) {
  }
  return 0;
}
