#pragma once
// SLO expressions for `sweep --slo`: comma-separated `metric<=value` / `metric>=value` terms over the
// flat stage-metric names (ttft_p99_ms, tpot_mean_ms, e2e_p99_ms, throughput_output_tok_s, ...).
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace servetwin {

struct SloTerm {
  std::string metric;
  bool at_most = true;  // true: <=, false: >=
  double value = 0;
};

// Throws ConfigError naming the bad term and the allowed metric names.
std::vector<SloTerm> parse_slo(const std::string& text);
// Empty when all terms hold; otherwise the failing terms as text, e.g. "ttft_p99_ms=2400>2000".
std::string slo_violations(const std::vector<SloTerm>& slo, const nlohmann::json& stage_metrics);

}  // namespace servetwin
