#include "sim/formats/vllm_bench_result.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "sim/catalog/catalog.hpp"
#include "sim/formats/foreign_file.hpp"
#include "sim/metrics/stage_metrics.hpp"

namespace servetwin::formats {
namespace {

constexpr double kMsPerS = 1e3;

// Adds mean/median/std and p50..p99 of `values_s` (seconds) in ms under vLLM's key names.
void add_metric(nlohmann::json& j, const std::string& name, const std::vector<double>& values_s) {
  std::vector<double> ms;
  ms.reserve(values_s.size());
  for (const double v : values_s) ms.push_back(v * kMsPerS);
  const Distribution d = summarize(ms);  // numpy's linear percentiles, as vLLM's np.percentile
  j["mean_" + name + "_ms"] = d.mean;
  j["median_" + name + "_ms"] = d.p50;
  j["std_" + name + "_ms"] = population_std(ms);
  j["p50_" + name + "_ms"] = d.p50;
  j["p90_" + name + "_ms"] = d.p90;
  j["p95_" + name + "_ms"] = d.p95;
  j["p99_" + name + "_ms"] = d.p99;
}

// vLLM's peak output tokens in a 1-second bucket and peak concurrency (half-open intervals).
std::pair<double, int> peaks(const std::vector<RequestRecord>& ok, TimeNs t0) {
  if (ok.empty()) return {0.0, 0};
  TimeNs last = t0;
  for (const auto& r : ok) last = std::max(last, r.finish_ns);
  std::vector<double> per_s(static_cast<std::size_t>(std::ceil(ns_to_seconds(last - t0))) + 1, 0.0);
  std::vector<std::pair<TimeNs, int>> events;
  for (const auto& r : ok) {
    const double first_s = ns_to_seconds(r.first_token_ns - t0);
    const double gap_s = r.output_tokens > 1 ? ns_to_seconds(r.finish_ns - r.first_token_ns) /
                                                   static_cast<double>(r.output_tokens - 1)
                                             : 0.0;
    for (std::int64_t k = 0; k < std::max<std::int64_t>(1, r.output_tokens); ++k) {
      const auto bucket = static_cast<std::size_t>(first_s + gap_s * static_cast<double>(k));
      if (bucket < per_s.size()) per_s[bucket] += 1;
    }
    events.emplace_back(r.arrival_ns, 1);
    events.emplace_back(r.finish_ns, -1);
  }
  std::sort(events.begin(), events.end());
  int cur = 0, peak = 0;
  for (const auto& e : events) peak = std::max(peak, cur += e.second);
  return {*std::max_element(per_s.begin(), per_s.end()), peak};
}

void add_traffic(nlohmann::json& j, const nlohmann::json& load) {
  j["request_rate"] = "inf";
  j["burstiness"] = 1.0;
  j["max_concurrency"] = nullptr;
  if (load.contains("concurrency")) {
    j["max_concurrency"] = load["concurrency"];  // a semaphore at infinite rate: a closed loop of N
    return;
  }
  if (!load.contains("rate_per_s")) return;  // a trace: sent at the trace's times
  j["request_rate"] = load["rate_per_s"];
  const std::string arrival = load.value("arrival", "poisson");
  if (arrival == "constant") j["burstiness"] = "inf";  // vLLM writes Infinity; see docs
  if (arrival.rfind("gamma:", 0) == 0) {
    const double cv = std::stod(arrival.substr(6));
    j["burstiness"] = 1.0 / (cv * cv);  // gamma shape k has CV 1/sqrt(k)
  }
  if (load.value("max_in_flight", 0) > 0) j["max_concurrency"] = load["max_in_flight"];
}

// The per-request arrays and the successful requests' values the statistics are computed from.
struct PerRequest {
  nlohmann::json input_lens = nlohmann::json::array(), output_lens = nlohmann::json::array(),
                 ttfts = nlohmann::json::array(), itls = nlohmann::json::array(), latencies = nlohmann::json::array(),
                 start_times = nlohmann::json::array(), texts = nlohmann::json::array(),
                 errors = nlohmann::json::array();
  std::vector<double> ok_ttft_s, ok_tpot_s, ok_gaps_s, ok_e2e_s;
  std::vector<RequestRecord> ok;
  std::int64_t total_in = 0, total_out = 0;
};

PerRequest collect(const std::vector<RequestRecord>& recs, TimeNs t0) {
  PerRequest p;
  for (const auto& r : recs) {
    const bool success = r.status == RequestStatus::kOk && r.first_token_ns >= 0;
    p.input_lens.push_back(r.input_tokens);
    p.start_times.push_back(ns_to_seconds(std::max<TimeNs>(0, r.arrival_ns - t0)));
    p.texts.push_back("");
    nlohmann::json gaps = nlohmann::json::array();
    if (!success) {  // vLLM keeps failed requests in the arrays with zeros and their error
      p.output_lens.push_back(0);
      p.ttfts.push_back(0.0);
      p.latencies.push_back(0.0);
      p.itls.push_back(gaps);
      p.errors.push_back(r.error.empty() ? std::string(to_string(r.status)) : r.error);
      continue;
    }
    p.ok.push_back(r);
    p.total_in += r.input_tokens;
    p.total_out += r.output_tokens;
    const double ttft = ns_to_seconds(r.first_token_ns - r.arrival_ns);
    const double lat = ns_to_seconds(r.finish_ns - r.arrival_ns);
    p.output_lens.push_back(r.output_tokens);
    p.ttfts.push_back(ttft);
    p.latencies.push_back(lat);
    p.errors.push_back("");
    p.ok_ttft_s.push_back(ttft);
    p.ok_e2e_s.push_back(lat);
    if (r.output_tokens > 1) {
      const double gap = (lat - ttft) / static_cast<double>(r.output_tokens - 1);
      p.ok_tpot_s.push_back(gap);
      for (std::int64_t k = 1; k < r.output_tokens; ++k) {
        gaps.push_back(gap);
        p.ok_gaps_s.push_back(gap);
      }
    }
    p.itls.push_back(gaps);
  }
  return p;
}

}  // namespace

nlohmann::json vllm_bench_result_json(const std::vector<RequestRecord>& records, const VllmResultContext& ctx) {
  std::vector<RequestRecord> recs = records;
  std::sort(recs.begin(), recs.end(), [](const auto& a, const auto& b) { return a.request_id < b.request_id; });
  TimeNs t0 = std::numeric_limits<TimeNs>::max(), t_end = 0;
  for (const auto& r : recs) {
    if (r.arrival_ns >= 0) t0 = std::min(t0, r.arrival_ns);
    t_end = std::max(t_end, r.finish_ns);
  }
  if (t0 == std::numeric_limits<TimeNs>::max()) t0 = 0;
  nlohmann::json j;
  j["date"] = ctx.date;
  j["endpoint_type"] = ctx.backend;
  j["backend"] = ctx.backend;
  j["label"] = ctx.label.empty() ? ctx.backend : ctx.label;
  j["model_id"] = ctx.model_id;
  j["tokenizer_id"] = ctx.model_id;
  j["num_prompts"] = recs.size();
  add_traffic(j, ctx.load);
  const double duration_s = ns_to_seconds(std::max<TimeNs>(1, t_end - t0));
  const PerRequest p = collect(recs, t0);
  const auto completed = static_cast<std::int64_t>(p.ok.size());
  j["duration"] = duration_s;
  j["completed"] = completed;
  j["failed"] = static_cast<std::int64_t>(recs.size()) - completed;
  j["total_input_tokens"] = p.total_in;
  j["total_output_tokens"] = p.total_out;
  j["request_throughput"] = static_cast<double>(completed) / duration_s;
  j["request_goodput"] = nullptr;
  j["output_throughput"] = static_cast<double>(p.total_out) / duration_s;
  j["total_token_throughput"] = static_cast<double>(p.total_in + p.total_out) / duration_s;
  j["input_lens"] = p.input_lens;
  j["output_lens"] = p.output_lens;
  j["ttfts"] = p.ttfts;
  j["itls"] = p.itls;
  j["latencies"] = p.latencies;
  j["start_times"] = p.start_times;
  j["generated_texts"] = p.texts;
  j["errors"] = p.errors;
  const auto [max_tok_s, max_conc] = peaks(p.ok, t0);
  j["max_output_tokens_per_s"] = max_tok_s;
  j["max_concurrent_requests"] = max_conc;
  add_metric(j, "ttft", p.ok_ttft_s);
  add_metric(j, "tpot", p.ok_tpot_s);
  add_metric(j, "itl", p.ok_gaps_s);
  add_metric(j, "e2el", p.ok_e2e_s);
  return j;
}

bool looks_like_vllm_bench_result(const nlohmann::json& j) {
  return j.is_object() && j.contains("completed") && j.contains("request_throughput") &&
         (j.contains("mean_ttft_ms") || j.contains("ttfts") || j.contains("mean_e2el_ms"));
}

}  // namespace servetwin::formats
