#pragma once
// GuideLLM's benchmarks JSON (`guidellm benchmark ... --output-path benchmarks.json`, report v0.7.x:
// metadata, args/config, benchmarks[] each with config.strategy, scheduler_metrics and
// requests.{successful,incomplete,errored}[]; field list in docs/result-formats.md).
#include <nlohmann/json.hpp>
#include <string>

#include "sim/formats/live_run_reader.hpp"

namespace servetwin::formats {

bool looks_like_guidellm_report(const nlohmann::json& j);

// One stage per benchmark. Request times (info.timings.*, epoch seconds) become ns from the first
// request start; the measurement window is the benchmark's start_time..end_time. Strategies:
// synchronous = 1 slot, concurrent = `streams` slots, throughput = `max_concurrency` slots (closed
// loops, slots assigned from the request times); constant/poisson = open loop at the recorded
// starts. GuideLLM may keep only a sample of the requests (config.sample_requests): noted.
LiveRun read_guidellm_report(const nlohmann::json& j, const std::string& file);

}  // namespace servetwin::formats
