#pragma once
// `servetwin calibrate fit --in probe.json --out DIR`: turns a probe of a live endpoint
// (`calibrate probe`, servetwin.probe.v1) into the simulator's inputs for that endpoint:
//  - TTFT of lone requests = a + b·p + c·p² (p prompt tokens): a = API time + one step's fixed cost,
//    b = cost per prompt token, c = the causal-attention term;
//  - inter-token time in the decode phases = s + q·batch + k·(context tokens in the batch), after the
//    prefill tokens that other requests ran inside the span (b per token) are taken out: s the per-step
//    cost, q the per-sequence cost, k the per-context-token cost; one row per stage (its medians);
//  - the admission limit: the most requests decoding together in the burst.
// Every fit is non-negative least squares on relative error. The coefficients then become a device
// (GPU spec + hardware profile whose compute rate and attention bandwidth reproduce b, c and k) and
// an engine preset (vLLM V1 scheduler with cpu_step_ns = s, cpu_seq_ns, api_ttft_ns), written as a
// catalog directory for `predict --config-dir` (probe_catalog.hpp).
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "calibrate/probe/probe_step_spread.hpp"

namespace servetwin::calibrate {

struct ProbeRow {
  std::string phase;
  int stage_concurrency = 0;
  double x[4] = {0, 0, 0, 0};  // regressors of this row's model
  double measured_s = 0;
  double predicted_s = 0;
  int requests = 1;            // requests behind the row (a decode row is a stage's medians)
};

struct LinearFit {
  std::vector<double> coef;     // non-negative
  double median_ape = 0, max_ape = 0;
  std::size_t n = 0;
};

struct ProbeFit {  // NOLINT(bugprone-exception-escape): nlohmann::json moves, as ScenarioResult (summary.hpp)
  LinearFit ttft;     // [1, p, p^2]
  LinearFit decode;   // [1, batch, context tokens in batch]
  std::vector<ProbeRow> ttft_rows, decode_rows;
  int admission_limit = 0;         // most requests decoding together in the burst (0 = no burst)
  int burst_requests = 0;
  std::int64_t prompt_min = 0, prompt_max = 0;
  double batch_min = 0, batch_max = 0, context_min = 0, context_max = 0;
  nlohmann::json server_engine, server_cache_config;
  bool probe_complete = false;
  StepSpreadFit step_spread;  // lone requests' step-to-step spread (probe_step_spread.hpp)
  std::vector<std::string> notes;
};

// Throws ConfigError naming the file and field for a file that is not a servetwin.probe.v1 probe,
// or a probe without enough ok requests to fit (fewer than 3 lone-request TTFTs or decode rows at
// fewer than 2 batch sizes).
ProbeFit fit_probe(const nlohmann::json& probe, const std::string& where);

// Whether a JSON file is a probe (its schema field), without throwing for other files.
bool is_probe_file(const std::filesystem::path& path);

// Solves min |W(Xb - y)| with b >= 0 exactly (every subset of active columns; k <= 4).
std::vector<double> nnls_small(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                               const std::vector<double>& w);

}  // namespace servetwin::calibrate
