#include "sim/validate/row_metrics.hpp"

#include <regex>
#include <stdexcept>

#include "sim/catalog/catalog.hpp"

namespace servetwin {
namespace {

// Latency columns read straight off a distribution of the stage metrics: column, distribution, statistic.
struct DistributionColumn {
  const char* col;
  Distribution StageMetrics::*dist;
  double Distribution::*stat;
};
constexpr DistributionColumn kDistributionColumns[] = {
    {"ttft_mean_ms", &StageMetrics::ttft_ms, &Distribution::mean},
    {"ttft_p50_ms", &StageMetrics::ttft_ms, &Distribution::p50},
    {"ttft_p90_ms", &StageMetrics::ttft_ms, &Distribution::p90},
    {"ttft_p95_ms", &StageMetrics::ttft_ms, &Distribution::p95},
    {"ttft_p99_ms", &StageMetrics::ttft_ms, &Distribution::p99},
    {"tpot_mean_ms", &StageMetrics::tpot_ms, &Distribution::mean},
    {"tpot_p50_ms", &StageMetrics::tpot_ms, &Distribution::p50},
    {"tpot_p90_ms", &StageMetrics::tpot_ms, &Distribution::p90},
    {"tpot_p95_ms", &StageMetrics::tpot_ms, &Distribution::p95},
    {"tpot_p99_ms", &StageMetrics::tpot_ms, &Distribution::p99},
    {"e2e_mean_ms", &StageMetrics::e2e_ms, &Distribution::mean},
    {"e2e_p50_ms", &StageMetrics::e2e_ms, &Distribution::p50},
    {"e2e_p90_ms", &StageMetrics::e2e_ms, &Distribution::p90},
    {"e2e_p95_ms", &StageMetrics::e2e_ms, &Distribution::p95},
    {"e2e_p99_ms", &StageMetrics::e2e_ms, &Distribution::p99},
    {"latency_per_token_median_ms", &StageMetrics::latency_per_token_ms, &Distribution::p50},
};

}  // namespace

double predicted_metric(const std::string& col, const StageMetrics& m, bool per_request_itl) {
  if (col == "throughput_output_tok_s") return m.throughput_output_tok_s;
  if (col == "throughput_total_tok_s") return m.throughput_total_tok_s;
  if (col == "request_rate_achieved") return m.request_rate_achieved;
  if (col == "itl_mean_ms") return per_request_itl ? m.tpot_ms.mean : m.itl_mean_ms;
  for (const auto& d : kDistributionColumns) {
    if (col == d.col) return m.*d.dist.*d.stat;
  }
  throw std::logic_error("validate: no prediction for metric " + col);
}

bool per_request_itl(const ValidationRow& row) { return row.get("notes").find("inference-perf") != std::string::npos; }

bool non_streaming_client(const ValidationRow& row) {
  static const std::regex re("non[- _]?stream|stream(ing)?[ =:]*(false|off|no)\\b|without streaming|not stream",
                             std::regex::icase);
  return std::regex_search(row.get("notes"), re) || std::regex_search(row.get("input_tokens_desc"), re);
}

double predicted_row_metric(const std::string& col, const StageMetrics& m, const ValidationRow& row) {
  if (non_streaming_client(row)) {
    if (col.rfind("ttft_", 0) == 0) return predicted_metric("e2e_" + col.substr(5), m, false);
    if (col == "itl_mean_ms" || col == "tpot_mean_ms") return m.tpot_incl_ttft_ms.mean;
    if (col.rfind("tpot_", 0) == 0) {
      StageMetrics per_token = m;
      per_token.tpot_ms = m.tpot_incl_ttft_ms;
      return predicted_metric(col, per_token, false);
    }
  }
  return predicted_metric(col, m, per_request_itl(row));
}

void set_row_metrics(const Catalog& catalog, const ValidationRow& row, RowMapping& m) {
  const bool per_request = per_request_itl(row);
  for (const auto& col : validation_metric_columns()) {
    if (!row.get(col).empty()) {
      m.metric_source[col] = col == "itl_mean_ms" ? (per_request ? "per-request mean gap (inference-perf)"
                                                                 : "pooled gaps (vLLM bench)")
                                                  : col;
    }
  }
  for (const auto& col : extra_metric_columns()) {
    if (!row.get(col).empty() && col != "usd_per_1m_tokens") m.metric_source[col] = col;
  }
  if (non_streaming_client(row)) {
    for (auto& [col, how] : m.metric_source) {
      if (col.rfind("ttft_", 0) == 0) how = "e2e_" + col.substr(5) + " (non-streaming client: the first token arrives with the reply)";
      if (col == "itl_mean_ms" || col.rfind("tpot_", 0) == 0) how = "e2e / output tokens per request (non-streaming client)";
    }
  }
  // Cost per 1M output tokens = price per hour / output tokens per hour. Priced at the row's own
  // price when it has one, so the comparison isolates the throughput prediction from price changes.
  if (row.get("usd_per_1m_tokens").empty()) return;
  const std::string& inst = row.get("instance");
  if (auto p = row.number("instance_usd_per_h"); p && *p > 0) {
    m.usd_per_h = *p;
    m.metric_source["usd_per_1m_tokens"] = "predicted output tok/s priced at the row's instance_usd_per_h";
  } else if (!inst.empty() && catalog.has_instance(inst) && catalog.instance(inst).on_demand.has_price) {
    m.usd_per_h = catalog.instance(inst).on_demand.usd_per_hour;
    m.metric_source["usd_per_1m_tokens"] = "predicted output tok/s priced at the catalog's on-demand price";
  }
}

}  // namespace servetwin
