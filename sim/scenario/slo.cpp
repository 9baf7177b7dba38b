#include "sim/scenario/slo.hpp"

#include <fmt/format.h>

#include "sim/catalog/catalog.hpp"

namespace servetwin {
namespace {
const std::vector<std::string> kSloMetrics = {
    "ttft_mean_ms", "ttft_p50_ms", "ttft_p90_ms", "ttft_p99_ms", "tpot_mean_ms", "tpot_p99_ms", "tpot_incl_ttft_mean_ms",
    "itl_mean_ms", "e2e_mean_ms", "e2e_p50_ms", "e2e_p99_ms", "throughput_output_tok_s", "request_rate_achieved",
    "error_rate", "rejection_rate"};

// Flat stage-metric keys, plus percentiles that only the distributions carry (tpot_p99_ms: the
// 99th percentile over requests of each request's mean inter-token latency).
double slo_metric_value(const nlohmann::json& m, const std::string& name) {
  if (name == "tpot_p99_ms") return m.at("distributions").at("tpot_ms").at("p99").get<double>();
  return m.at(name).get<double>();
}
}  // namespace

std::vector<SloTerm> parse_slo(const std::string& text) {
  std::vector<SloTerm> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string term = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (term.empty()) continue;
    SloTerm t;
    auto op = term.find("<=");
    if (op == std::string::npos) {
      op = term.find(">=");
      t.at_most = false;
    }
    if (op == std::string::npos) {
      throw ConfigError("--slo term '" + term + "': expected METRIC<=VALUE or METRIC>=VALUE");
    }
    t.metric = term.substr(0, op);
    if (std::find(kSloMetrics.begin(), kSloMetrics.end(), t.metric) == kSloMetrics.end()) {
      throw ConfigError(fmt::format("--slo metric '{}' is not allowed; allowed: {}", t.metric, fmt::join(kSloMetrics, ", ")));
    }
    try {
      std::size_t used = 0;
      t.value = std::stod(term.substr(op + 2), &used);
      if (used != term.size() - op - 2) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw ConfigError("--slo term '" + term + "': value is not a number");
    }
    out.push_back(t);
  }
  return out;
}

std::string slo_violations(const std::vector<SloTerm>& slo, const nlohmann::json& stage_metrics) {
  std::string out;
  for (const auto& t : slo) {
    const double v = slo_metric_value(stage_metrics, t.metric);
    const bool ok = t.at_most ? v <= t.value : v >= t.value;
    if (!ok) out += fmt::format("{}{}={:.4g}{}{:g}", out.empty() ? "" : ", ", t.metric, v, t.at_most ? ">" : "<", t.value);
  }
  return out;
}

}  // namespace servetwin
