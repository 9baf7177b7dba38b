#include "sim/formats/read_any_run.hpp"

#include <fmt/format.h>

#include "sim/catalog/catalog.hpp"
#include "sim/core/path_check.hpp"
#include "sim/formats/foreign_file.hpp"
#include "sim/formats/guidellm_report.hpp"
#include "sim/formats/llm_load_test_output.hpp"
#include "sim/formats/vllm_bench_result.hpp"

namespace servetwin::formats {

const char* accepted_run_formats() {
  return "a `servetwin load --out` directory, llm-load-test v2 output JSON, vLLM `bench serve --save-result "
         "--save-detailed` JSON, GuideLLM benchmarks JSON (v0.7.x), llm-d benchmark report v0.2 (YAML or JSON)";
}

AnyRun read_any_run(const std::filesystem::path& path) {
  AnyRun out;
  const PathCheck c = check_path(path);
  if (c.directory) {
    out.format = "servetwin-load-dir";
    out.per_request = read_live_run(path);
    return out;
  }
  const std::string file = path.string();
  if (!c.exists) {
    throw ConfigError(fmt::format("{}: not a directory or a file{} (give the --out DIR of `servetwin load` or a "
                                  "result file; accepted: {})", file, c.reason_suffix(), accepted_run_formats()));
  }
  const std::string text = read_text_file(path);
  nlohmann::json j = parse_json_lenient(text);
  if (j.is_discarded()) {
    try {
      j = parse_yaml_as_json(text, file);
    } catch (const ConfigError& e) {
      throw ConfigError(fmt::format("{} (accepted: {})", e.what(), accepted_run_formats()));
    }
  }
  if (looks_like_llm_load_test_output(j)) {
    out.format = "llm-load-test-output";
    out.per_request = read_llm_load_test_output(j, file);
  } else if (looks_like_vllm_bench_result(j)) {
    out.format = "vllm-bench-result";
    out.per_request = read_vllm_bench_result(j, file);
  } else if (looks_like_guidellm_report(j)) {
    out.format = "guidellm-benchmarks";
    out.per_request = read_guidellm_report(j, file);
  } else if (looks_like_llmd_report(j)) {
    out.format = "llm-d-report-v0.2";
    out.aggregate = read_llmd_report(j, file);
  } else {
    throw ConfigError(fmt::format("{}: not a result format this build reads; accepted: {}", file, accepted_run_formats()));
  }
  return out;
}

}  // namespace servetwin::formats
