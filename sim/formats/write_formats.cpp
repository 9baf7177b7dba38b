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

// vLLM's `date` field: when the file was written, "YYYYmmdd-HHMMSS" (local time in vLLM; UTC here).
std::string result_date_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}{:02}{:02}-{:02}{:02}{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

void write_stage_formats(const std::filesystem::path& dir, const std::string& name,
                         const std::vector<RequestRecord>& records, const StageMetrics& metrics,
                         const StageFormatContext& ctx, const std::vector<OutFormat>& formats) {
  for (const OutFormat f : formats) {
    const std::filesystem::path sub = dir / (f == OutFormat::kVllmBench ? "vllm-bench" : "llm-d");
    std::filesystem::create_directories(sub);
    const auto path = sub / (name + ".json");
    if (f == OutFormat::kVllmBench) {
      VllmResultContext v;
      v.model_id = ctx.model_id.empty() ? ctx.deployment.value("model", "") : ctx.model_id;
      v.label = ctx.scenario_name;
      v.date = ctx.date;
      v.load = ctx.load;
      write_json_file(path, vllm_bench_result_json(records, v));
    } else {
      LlmdReportContext l;
      l.scenario_name = ctx.scenario_name;
      l.stage = ctx.stage;
      l.deployment = ctx.deployment;
      l.load = ctx.load;
      l.tool_version = version_string();
      write_json_file(path, llmd_report_json(records, metrics, l));
    }
  }
}

void write_foreign_formats(const std::filesystem::path& dir, const std::vector<ScenarioRun>& runs,
                           const std::vector<OutFormat>& formats) {
  const std::string date = result_date_now();
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const auto& run = runs[i];
    for (std::size_t k = 0; k < run.stages.size(); ++k) {
      const auto& st = run.stages[k];
      StageFormatContext ctx;
      ctx.scenario_name = run.scenario.name;
      ctx.stage = static_cast<int>(k);
      ctx.deployment = run.resolved_config.value("deployment", nlohmann::json::object());
      ctx.load = st.load;
      ctx.date = date;
      write_stage_formats(dir, fmt::format("scenario{}-stage{}", i, k), st.records, st.metrics, ctx, formats);
    }
  }
}

}  // namespace servetwin::formats
