// libFuzzer target: catalog YAML files. The input is one entry file; its first byte picks the
// catalog kind (models, gpus, ...) so every kind's reader is exercised.
#include "fuzz/fuzz_input.hpp"
#include "sim/catalog/catalog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& kinds = servetwin::Catalog::kinds();
  const std::string& kind = kinds[data[0] % kinds.size()];
  servetwin::Catalog::Texts files;
  files[kind].emplace_back("configs/" + kind + "/entry.yaml", servetwin::fuzz::as_text(data + 1, size - 1));
  try {
    (void)servetwin::Catalog::from_texts("configs", files);
  } catch (const servetwin::ConfigError&) {
  }
  return 0;
}
