// The llm-load-test output JSON of one stage (loadtesters.md §3.2), from the runner's records.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "live/load/runner.hpp"
#include "live/load/transport.hpp"
#include "sim/metrics/percentile.hpp"

namespace servetwin::live {
namespace {

nlohmann::json llt_stats(std::vector<double> v) {
  nlohmann::json j;
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) {
    for (const char* k : {"min", "max", "median", "mean", "percentile_80", "percentile_90", "percentile_95",
                          "percentile_99"}) {
      j[k] = nullptr;  // llm-load-test writes NaN as null
    }
    return j;
  }
  std::sort(v.begin(), v.end());  // for percentile_sorted (numpy's default linear interpolation)
  double sum = 0;
  for (const double x : v) sum += x;
  j["min"] = v.front();
  j["max"] = v.back();
  j["median"] = percentile_sorted(v, 0.5);
  j["mean"] = sum / static_cast<double>(v.size());
  j["percentile_80"] = percentile_sorted(v, 0.8);
  j["percentile_90"] = percentile_sorted(v, 0.9);
  j["percentile_95"] = percentile_sorted(v, 0.95);
  j["percentile_99"] = percentile_sorted(v, 0.99);
  return j;
}

}  // namespace

nlohmann::json llm_load_test_json(const LoadConfig& cfg, const StageWindow& w, const std::vector<LiveRecord>& records,
                                  std::chrono::system_clock::time_point t0_wall) {
  const double t0_epoch_s = std::chrono::duration<double>(t0_wall.time_since_epoch()).count();
  auto epoch = [&](TimeNs t) -> nlohmann::json {
    if (t < 0) return nullptr;
    return t0_epoch_s + ns_to_seconds(t);
  };
  nlohmann::json results = nlohmann::json::array();
  std::vector<double> tpot, ttft, itl, tt_ack, rt, out, out_before, in;
  double tokens_before = 0, tokens_all = 0;
  TimeNs min_start = -1, max_end = -1;
  std::int64_t total = 0, failures = 0, within = 0;
  for (const auto& lr : records) {
    const auto& r = lr.rec;
    if (r.stage != w.stage) continue;
    ++total;
    // Tokens received before the stage deadline (llm-load-test's output_tokens_before_timeout).
    std::int64_t before = 0;
    for (const auto& [t, cum] : lr.messages) {
      if (t < w.window_end_ns) before = cum;
    }
    nlohmann::json j = {{"user_id", r.user_id},
                        {"input_id", lr.input_id},
                        {"input_tokens", r.input_tokens},
                        {"output_text", nullptr},  // not kept: the runner stores counts and times only
                        {"output_tokens", r.output_tokens},
                        {"output_tokens_before_timeout", before},
                        {"start_time", epoch(r.arrival_ns)},
                        {"ack_time", epoch(r.ack_ns)},
                        {"first_token_time", epoch(r.first_token_ns)},
                        {"end_time", epoch(r.finish_ns)},
                        {"stop_reason", r.stop_reason},
                        {"error_code", nullptr},
                        {"error_text", nullptr},
                        {"response_time", nullptr},
                        {"tt_ack", nullptr},
                        {"ttft", nullptr},
                        {"itl", nullptr},
                        {"tpot", nullptr}};
    if (r.status != RequestStatus::kOk) {
      ++failures;
      j["error_code"] = lr.status_code != 0 ? nlohmann::json(lr.status_code) : nlohmann::json(to_string(r.status));
      j["error_text"] = r.error;
      results.push_back(std::move(j));
      continue;
    }
    const double resp_ms = ns_to_ms(r.finish_ns - r.arrival_ns);
    j["response_time"] = resp_ms;
    const double ack_ms = r.ack_ns >= 0 ? ns_to_ms(r.ack_ns - r.arrival_ns) : std::nan("");
    const double ttft_ms = r.first_token_ns >= 0 ? ns_to_ms(r.first_token_ns - r.arrival_ns) : std::nan("");
    const double itl_ms = r.output_tokens > 1 && r.first_token_ns >= 0
                              ? ns_to_ms(r.finish_ns - r.first_token_ns) / static_cast<double>(r.output_tokens - 1)
                              : std::nan("");
    const double tpot_ms = r.output_tokens > 0 ? resp_ms / static_cast<double>(r.output_tokens) : std::nan("");
    if (!std::isnan(ack_ms)) j["tt_ack"] = ack_ms;
    if (!std::isnan(ttft_ms)) j["ttft"] = ttft_ms;
    if (!std::isnan(itl_ms)) j["itl"] = itl_ms;
    if (!std::isnan(tpot_ms)) j["tpot"] = tpot_ms;
    const bool finished_in_time = before == r.output_tokens;
    if (finished_in_time) {
      ++within;
      tpot.push_back(tpot_ms);
      ttft.push_back(ttft_ms);
      itl.push_back(itl_ms);
      tt_ack.push_back(ack_ms);
    }
    rt.push_back(resp_ms);
    out.push_back(static_cast<double>(r.output_tokens));
    out_before.push_back(static_cast<double>(before));
    in.push_back(static_cast<double>(r.input_tokens));
    tokens_before += static_cast<double>(before);
    tokens_all += static_cast<double>(r.output_tokens);
    min_start = min_start < 0 ? r.arrival_ns : std::min(min_start, r.arrival_ns);
    max_end = std::max(max_end, r.finish_ns);
    results.push_back(std::move(j));
  }
  const double target_duration_s = ns_to_seconds(w.window_end_ns - w.window_start_ns);
  const double full_s = min_start >= 0 ? ns_to_seconds(max_end - min_start) : 0;
  nlohmann::json summary = {{"tpot", llt_stats(tpot)},
                            {"ttft", llt_stats(ttft)},
                            {"itl", llt_stats(itl)},
                            {"tt_ack", llt_stats(tt_ack)},
                            {"response_time", llt_stats(rt)},
                            {"output_tokens", llt_stats(out)},
                            {"output_tokens_before_timeout", llt_stats(out_before)},
                            {"input_tokens", llt_stats(in)},
                            {"throughput", target_duration_s > 0 ? tokens_before / target_duration_s : 0.0},
                            {"throughput_full_duration", full_s > 0 ? tokens_all / full_s : 0.0},
                            {"full_duration", full_s},
                            {"total_requests", total},
                            {"req_completed_within_test_duration", within},
                            {"total_failures", failures},
                            {"failure_rate", total > 0 ? 100.0 * static_cast<double>(failures) / static_cast<double>(total)
                                                       : 0.0}};
  const auto colon = cfg.target.rfind(':');
  nlohmann::json config = {
      {"load_options",
       {{"type", cfg.concurrency.empty() ? cfg.arrival : std::string("constant")},
        {"duration", target_duration_s}}},
      {"plugin", llm_load_test_plugin_name(cfg)},
      {"plugin_options",
       {{"host", colon == std::string::npos ? cfg.target : cfg.target.substr(0, colon)},
        {"port", colon == std::string::npos ? "" : cfg.target.substr(colon + 1)},
        {"model_name", cfg.model_id},
        {"streaming", cfg.stream},
        {"use_tls", cfg.tls}}},
      {"dataset", {{"file", cfg.dataset_path}}},
      {"producer", "servetwin live"}};
  for (auto it = w.load.begin(); it != w.load.end(); ++it) config["load_options"][it.key()] = it.value();
  return {{"results", results}, {"config", config}, {"summary", summary}};
}

}  // namespace servetwin::live
