// libFuzzer target: llm-load-test datasets (v1 JSON and v2 JSONL, `predict --dataset FILE`), read as
// for a llama2-tokenizer model and for another one.
#include "fuzz/fuzz_input.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/workload/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = servetwin::fuzz::as_text(data, size);
  for (const char* tokenizer : {"llama2", "other"}) {
    try {
      (void)servetwin::parse_dataset(text, "fuzz-input/dataset.json", tokenizer);
    } catch (const servetwin::ConfigError&) {
    }
  }
  return 0;
}
