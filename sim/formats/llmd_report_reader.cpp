// Reader half of sim/formats/llmd_report.hpp.
#include <fmt/format.h>

#include <cmath>

#include "sim/catalog/catalog.hpp"
#include "sim/formats/foreign_file.hpp"
#include "sim/formats/llmd_report.hpp"

namespace servetwin::formats {
namespace {

// Factor to milliseconds (or ms/token) for a v0.2 time unit.
double to_ms_factor(const nlohmann::json& stat, const std::string& file, const std::string& path) {
  const std::string units = stat.value("units", "");
  if (units == "ms" || units == "ms/token") return 1.0;
  if (units == "s" || units == "s/token") return 1e3;
  throw ConfigError(fmt::format("{}: field '{}.units' is '{}'; allowed: ms, s, ms/token, s/token", file, path, units));
}

// Quantile key of the v0.2 Statistics object -> probability.
const std::vector<std::pair<const char*, double>>& quantile_keys() {
  static const std::vector<std::pair<const char*, double>> keys = {
      {"min", 0.0},  {"p0p1", 0.001}, {"p1", 0.01},  {"p5", 0.05},  {"p10", 0.10}, {"p25", 0.25},
      {"p50", 0.50}, {"p75", 0.75},   {"p90", 0.90}, {"p95", 0.95}, {"p99", 0.99}, {"p99p9", 0.999},
      {"max", 1.0}};
  return keys;
}

void read_lengths(const nlohmann::json& stat, double& mean, std::map<double, double>& q) {
  if (!stat.is_object()) return;
  mean = stat.value("mean", 0.0);
  for (const auto& [key, p] : quantile_keys()) {
    if (stat.contains(key) && stat[key].is_number()) q[p] = stat[key].get<double>();
  }
}

// Copies mean/p50/p90/p99 of one latency statistic into servetwin metric names.
void read_latency(LlmdStage& s, const nlohmann::json& lat, const char* key, const std::string& prefix,
                  const std::string& file) {
  if (!lat.contains(key) || !lat[key].is_object()) return;
  const std::string path = fmt::format("results.request_performance.aggregate.latency.{}", key);
  const auto& st = lat[key];
  const double f = to_ms_factor(st, file, path);
  const std::vector<std::pair<const char*, const char*>> names = {{"mean", "_mean_ms"}, {"p50", "_p50_ms"},
                                                                   {"p90", "_p90_ms"}, {"p99", "_p99_ms"}};
  for (const auto& [stat_key, suffix] : names) {
    if (!st.contains(stat_key) || !st[stat_key].is_number()) continue;
    s.measured[prefix + suffix] = st[stat_key].get<double>() * f;
    s.sources[prefix + suffix] = path + "." + stat_key;
  }
}

void read_throughput(LlmdStage& s, const nlohmann::json& tp, const char* key, const char* metric) {
  if (!tp.contains(key) || !tp[key].is_object() || !tp[key].contains("mean")) return;
  s.measured[metric] = tp[key]["mean"].get<double>();
  s.sources[metric] = fmt::format("results.request_performance.aggregate.throughput.{}.mean", key);
}

void read_scenario(LlmdStage& s, const nlohmann::json& j) {
  if (!j.contains("scenario") || !j["scenario"].is_object()) return;
  const auto& sc = j["scenario"];
  if (sc.contains("stack") && sc["stack"].is_array()) {
    for (const auto& c : sc["stack"]) {
      // v0.2 puts `kind` in metadata; later revisions of the same schema put it in standardized.
      const auto st = c.value("standardized", nlohmann::json::object());
      const std::string kind = c.value("metadata", nlohmann::json::object()).value("kind", st.value("kind", ""));
      if (kind != "inference_engine") continue;
      s.model = st.value("model", nlohmann::json::object()).value("name", "");
      const auto acc = st.value("accelerator", nlohmann::json::object());
      s.accelerator = acc.value("model", "");
      s.accelerator_count = acc.value("count", 0);
      s.tp = acc.value("parallelism", nlohmann::json::object()).value("tp", 0);
      break;
    }
  }
  const auto ls = sc.value("load", nlohmann::json::object()).value("standardized", nlohmann::json::object());
  if (ls.contains("rate_qps") && ls["rate_qps"].is_number()) s.rate_qps = ls["rate_qps"].get<double>();
  if (ls.contains("concurrency") && ls["concurrency"].is_number_integer()) s.concurrency = ls["concurrency"].get<int>();
}

}  // namespace

LlmdStage read_llmd_report(const nlohmann::json& j, const std::string& file) {
  const auto& version = require(j, "version", file, "");
  const std::string v = version.is_string() ? version.get<std::string>() : version.dump();
  if (v.rfind("0.2", 0) != 0) {
    throw ConfigError(fmt::format("{}: field 'version' is {}; this build reads llm-d benchmark reports 0.2 and 0.2.x",
                                  file, version.dump()));
  }
  const auto& agg = require(require(require(j, "results", file, ""), "request_performance", file, "results."),
                            "aggregate", file, "results.request_performance.");
  LlmdStage s;
  read_scenario(s, j);
  if (agg.contains("requests") && agg["requests"].is_object()) {
    const auto& rq = agg["requests"];
    s.requests_total = rq.value("total", 0);
    s.failures = rq.value("failures", 0);
    read_lengths(rq.value("input_length", nlohmann::json()), s.input_mean, s.input_quantiles);
    read_lengths(rq.value("output_length", nlohmann::json()), s.output_mean, s.output_quantiles);
  }
  const auto lat = agg.value("latency", nlohmann::json::object());
  read_latency(s, lat, "time_to_first_token", "ttft", file);
  read_latency(s, lat, "request_latency", "e2e", file);
  read_latency(s, lat, "time_per_output_token", "tpot", file);
  read_latency(s, lat, "inter_token_latency", "itl", file);
  read_latency(s, lat, "normalized_time_per_output_token", "ntpot", file);
  if (s.measured.count("ntpot_p50_ms") != 0) {
    s.measured["latency_per_token_median_ms"] = s.measured["ntpot_p50_ms"];
    s.sources["latency_per_token_median_ms"] = s.sources["ntpot_p50_ms"];
  }
  const auto tp = agg.value("throughput", nlohmann::json::object());
  read_throughput(s, tp, "output_token_rate", "throughput_output_tok_s");
  read_throughput(s, tp, "total_token_rate", "throughput_total_tok_s");
  read_throughput(s, tp, "requests_rate", "request_rate_achieved");
  return s;
}

}  // namespace servetwin::formats
