#pragma once
// llm-d benchmark report, schema v0.2 (llm-d/llm-d-benchmark benchmark_report/schema_v0_2.py; field
// list in docs/result-formats.md): aggregate statistics of one load stage, no per-request data.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/metrics/request_record.hpp"
#include "sim/metrics/stage_metrics.hpp"

namespace servetwin::formats {

struct LlmdReportContext {
  std::string scenario_name;   // run.eid is derived from it, run.uid from it and the stage
  int stage = 0;
  nlohmann::json deployment;   // resolved_config.deployment (model, gpu, num_gpus, tp, engine, ...)
  nlohmann::json load;         // the stage's load
  std::string tool_version;    // servetwin version
};

// v0.2 report of one stage: run ids, scenario.stack[0] (the inference engine), scenario.load, and
// results.request_performance.aggregate (requests, latency in ms, throughput) from the metrics
// computed by compute_stage_metrics over the same records.
nlohmann::json llmd_report_json(const std::vector<RequestRecord>& records, const StageMetrics& m,
                                const LlmdReportContext& ctx);

bool looks_like_llmd_report(const nlohmann::json& j);

// What a v0.2 report says about one stage.
struct LlmdStage {
  std::string model;                       // scenario.stack[inference_engine].standardized.model.name
  std::string accelerator;                 // ... accelerator.model
  int accelerator_count = 0, tp = 0;
  std::optional<double> rate_qps;          // scenario.load.standardized.rate_qps
  std::optional<int> concurrency;          // scenario.load.standardized.concurrency (finite)
  std::int64_t requests_total = 0, failures = 0;
  // Token lengths: mean and the reported quantiles (q in [0,1] -> tokens), for drawing requests.
  double input_mean = 0, output_mean = 0;
  std::map<double, double> input_quantiles, output_quantiles;
  std::map<std::string, double> measured;  // servetwin metric name (validation columns) -> value
  std::map<std::string, std::string> sources;  // field -> where it came from in the file
};

// Throws ConfigError naming the file and field for a missing section or a unit it does not know.
LlmdStage read_llmd_report(const nlohmann::json& j, const std::string& file);

}  // namespace servetwin::formats
