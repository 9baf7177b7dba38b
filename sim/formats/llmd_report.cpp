#include "sim/formats/llmd_report.hpp"

#include <fmt/format.h>

#include "sim/formats/foreign_file.hpp"

namespace servetwin::formats {
namespace {

nlohmann::json stats(const Distribution& d, const char* units) {
  if (d.n == 0) return {{"units", units}, {"mean", 0.0}};
  return {{"units", units}, {"mean", d.mean}, {"min", d.min}, {"p50", d.p50}, {"p90", d.p90},
          {"p95", d.p95},   {"p99", d.p99},   {"max", d.max}};
}

nlohmann::json mean_only(double v, const char* units) { return {{"units", units}, {"mean", v}}; }

nlohmann::json seq_len(const Distribution& d) {
  // v0.2 requires value >= 1; "other": the lengths came from a dataset, not a named distribution.
  nlohmann::json j = {{"distribution", "other"}, {"value", std::max(1.0, d.mean)}};
  if (d.n > 0) {
    j["min"] = static_cast<std::int64_t>(d.min);
    j["max"] = std::max<std::int64_t>(1, static_cast<std::int64_t>(d.max));
  }
  return j;
}

nlohmann::json engine_component(const LlmdReportContext& ctx) {
  const auto& d = ctx.deployment;
  const int gpus = std::max(1, d.value("num_gpus", 1));
  nlohmann::json args = {{"engine_preset", d.value("engine", "")}, {"dtype", d.value("dtype", "")},
                         {"instance", d.value("instance", "")}, {"interconnect", d.value("interconnect", "")}};
  if (d.contains("engine_set")) args["engine_set"] = d["engine_set"];
  return {{"metadata", {{"kind", "inference_engine"}, {"schema_version", "0.0.1"}, {"label", "servetwin-sim-0"},
                        {"cfg_id", stable_hex_id(d.dump())}, {"description", "simulated by servetwin"}}},
          {"standardized",
           {{"tool", "servetwin-simulator"},
            {"tool_version", ctx.tool_version},
            {"role", "replica"},
            {"model", {{"name", d.value("model", "")}}},
            {"accelerator",
             {{"model", d.value("gpu", "")},
              {"count", gpus},
              {"parallelism", {{"dp", 1}, {"ep", 1}, {"pp", 1}, {"tp", std::max(1, d.value("tp", gpus))}}}}}}},
          {"native", {{"args", args}}}};
}

}  // namespace

nlohmann::json llmd_report_json(const std::vector<RequestRecord>& records, const StageMetrics& m,
                                const LlmdReportContext& ctx) {
  std::vector<double> in_len, out_len;
  for (const auto& r : records) {
    if (r.stage != m.stage || r.status != RequestStatus::kOk) continue;
    in_len.push_back(static_cast<double>(r.input_tokens));
    out_len.push_back(static_cast<double>(r.output_tokens));
  }
  const Distribution in_d = summarize(in_len), out_d = summarize(out_len);
  nlohmann::json load_std = {{"tool", "servetwin"}, {"tool_version", ctx.tool_version}, {"source", "sampled"},
                             {"stage", ctx.stage}, {"input_seq_len", seq_len(in_d)}, {"output_seq_len", seq_len(out_d)}};
  if (ctx.load.contains("concurrency")) load_std["concurrency"] = ctx.load["concurrency"];
  if (ctx.load.contains("rate_per_s")) load_std["rate_qps"] = ctx.load["rate_per_s"];
  const double input_rate = m.throughput_total_tok_s - m.throughput_output_tok_s;
  nlohmann::json aggregate = {
      {"requests",
       {{"total", m.requests},
        {"failures", m.errors + m.timeouts + m.rejected},
        {"incomplete", m.unfinished},
        {"input_length", stats(in_d, "count")},
        {"output_length", stats(out_d, "count")}}},
      {"latency",
       {{"time_to_first_token", stats(m.ttft_ms, "ms")},
        {"time_per_output_token", stats(m.tpot_ms, "ms/token")},
        {"inter_token_latency", mean_only(m.itl_mean_ms, "ms/token")},
        {"normalized_time_per_output_token", stats(m.tpot_incl_ttft_ms, "ms/token")},
        {"request_latency", stats(m.e2e_ms, "ms")}}},
      {"throughput",
       {{"output_token_rate", mean_only(m.throughput_output_tok_s, "tokens/s")},
        {"input_token_rate", mean_only(input_rate, "tokens/s")},
        {"total_token_rate", mean_only(m.throughput_total_tok_s, "tokens/s")},
        {"requests_rate", mean_only(m.request_rate_achieved, "queries/s")}}}};
  return {{"version", "0.2"},
          {"run", {{"uid", stable_hex_id(fmt::format("{}#stage{}", ctx.scenario_name, ctx.stage))},
                   {"eid", stable_hex_id(ctx.scenario_name)}}},
          {"scenario",
           {{"stack", nlohmann::json::array({engine_component(ctx)})},
            {"load", {{"metadata", {{"schema_version", "0.0.1"}, {"description", ctx.scenario_name}}},
                      {"standardized", load_std},
                      {"native", {{"config", ctx.load}}}}}}},
          {"results", {{"request_performance", {{"aggregate", aggregate}}}}}};
}

bool looks_like_llmd_report(const nlohmann::json& j) {
  return j.is_object() && j.contains("version") && j.contains("results") && j["results"].is_object() &&
         (j["results"].contains("request_performance") || j.contains("scenario"));
}

}  // namespace servetwin::formats
