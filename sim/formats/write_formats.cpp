#include "sim/formats/write_formats.hpp"

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "sim/catalog/catalog.hpp"
#include "sim/formats/llmd_report.hpp"
#include "sim/formats/vllm_bench_result.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/version.hpp"

namespace servetwin::formats {
namespace {

constexpr const char* kAllowed = "vllm-bench, llm-d, all (comma-separated)";

// vLLM's `date` field: when the file was written, "YYYYmmdd-HHMMSS" (local time in vLLM; UTC here).
std::string now_text() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}{:02}{:02}-{:02}{:02}{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

}  // namespace

std::vector<OutFormat> parse_out_formats(const std::string& list) {
  std::vector<OutFormat> out;
  std::size_t pos = 0;
  while (pos <= list.size()) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const std::string name = list.substr(pos, comma - pos);
    if (name == "vllm-bench" || name == "all") out.push_back(OutFormat::kVllmBench);
    if (name == "llm-d" || name == "all") out.push_back(OutFormat::kLlmd);
    if (name != "vllm-bench" && name != "llm-d" && name != "all") {
      throw ConfigError(fmt::format("--formats: unknown format '{}'; allowed: {}", name, kAllowed));
    }
    pos = comma + 1;
  }
  return out;
}

void write_foreign_formats(const std::filesystem::path& dir, const std::vector<ScenarioRun>& runs,
                           const std::vector<OutFormat>& formats) {
  const std::string date = now_text();
  for (const OutFormat f : formats) {
    const std::filesystem::path sub = dir / (f == OutFormat::kVllmBench ? "vllm-bench" : "llm-d");
    std::filesystem::create_directories(sub);
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const auto& run = runs[i];
      const nlohmann::json deployment = run.resolved_config.value("deployment", nlohmann::json::object());
      for (std::size_t k = 0; k < run.stages.size(); ++k) {
        const auto& st = run.stages[k];
        const auto path = sub / fmt::format("scenario{}-stage{}.json", i, k);
        if (f == OutFormat::kVllmBench) {
          VllmResultContext ctx;
          ctx.model_id = deployment.value("model", "");
          ctx.label = run.scenario.name;
          ctx.date = date;
          ctx.load = st.load;
          write_json_file(path, vllm_bench_result_json(st.records, ctx));
        } else {
          LlmdReportContext ctx;
          ctx.scenario_name = run.scenario.name;
          ctx.stage = static_cast<int>(k);
          ctx.deployment = deployment;
          ctx.load = st.load;
          ctx.tool_version = version_string();
          write_json_file(path, llmd_report_json(st.records, st.metrics, ctx));
        }
      }
    }
  }
}

}  // namespace servetwin::formats
