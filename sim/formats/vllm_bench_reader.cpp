// Reader half of sim/formats/vllm_bench_result.hpp.
#include <fmt/format.h>

#include <algorithm>

#include "sim/catalog/catalog.hpp"
#include "sim/formats/foreign_file.hpp"
#include "sim/formats/vllm_bench_result.hpp"

namespace servetwin::formats {
namespace {

const nlohmann::json& per_request(const nlohmann::json& j, const char* key, const std::string& file, std::size_t n) {
  if (!j.contains(key)) {
    throw ConfigError(fmt::format("{}: field '{}' missing: re-simulation needs vLLM's per-request arrays "
                                  "(run `vllm bench serve` with --save-result --save-detailed)",
                                  file, key));
  }
  const auto& a = j[key];
  if (!a.is_array()) throw ConfigError(fmt::format("{}: field '{}' is not an array", file, key));
  if (n != 0 && a.size() != n) {
    throw ConfigError(fmt::format("{}: field '{}' has {} entries, 'input_lens' has {}", file, key, a.size(), n));
  }
  return a;
}

double number_at(const nlohmann::json& a, std::size_t i, const std::string& file, const char* key) {
  if (!a[i].is_number()) throw ConfigError(fmt::format("{}: field '{}[{}]' is {}, expected a number", file, key, i, a[i].dump()));
  return a[i].get<double>();
}

}  // namespace

LiveRun read_vllm_bench_result(const nlohmann::json& j, const std::string& file) {
  const auto& in = per_request(j, "input_lens", file, 0);
  const std::size_t n = in.size();
  const auto& out = per_request(j, "output_lens", file, n);
  const auto& ttft = per_request(j, "ttfts", file, n);
  const auto& lat = per_request(j, "latencies", file, n);
  const auto& start = per_request(j, "start_times", file, n);
  const nlohmann::json no_errors = nlohmann::json::array();
  const auto& errs = j.contains("errors") ? per_request(j, "errors", file, n) : no_errors;
  double t0 = 0;
  for (std::size_t i = 0; i < n; ++i) t0 = i == 0 ? number_at(start, i, file, "start_times") : std::min(t0, start[i].get<double>());
  LiveRun run;
  run.dir = file;
  run.format = "vllm-bench-result";
  run.model_hint = j.value("model_id", std::string());
  for (std::size_t i = 0; i < n; ++i) {
    RequestRecord r;
    r.request_id = i;
    r.input_tokens = static_cast<std::int64_t>(number_at(in, i, file, "input_lens"));
    r.arrival_ns = seconds_to_ns(number_at(start, i, file, "start_times") - t0);
    const std::string err = i < errs.size() && errs[i].is_string() ? errs[i].get<std::string>() : std::string();
    if (!err.empty()) {
      r.status = RequestStatus::kError;
      r.error = err;
      r.finish_ns = r.arrival_ns;
    } else {
      r.status = RequestStatus::kOk;
      r.output_tokens = static_cast<std::int64_t>(number_at(out, i, file, "output_lens"));
      r.first_token_ns = r.arrival_ns + seconds_to_ns(number_at(ttft, i, file, "ttfts"));
      r.ack_ns = r.first_token_ns;
      r.finish_ns = r.arrival_ns + seconds_to_ns(number_at(lat, i, file, "latencies"));
    }
    run.requests.push_back(std::move(r));
  }
  const nlohmann::json rate = j.value("request_rate", nlohmann::json("inf"));
  const nlohmann::json conc = j.value("max_concurrency", nlohmann::json());
  LiveStage st;
  if (rate == "inf" && conc.is_number_integer() && conc.get<int>() > 0) {
    assign_closed_loop_slots(run.requests, conc.get<int>());
    st.load = {{"concurrency", conc}};
    st.label = fmt::format("concurrency={}", conc.get<int>());
    run.field_sources["load"] = fmt::format("{}: request_rate inf + max_concurrency {} (closed loop, slots assigned "
                                            "from start_times and latencies)", file, conc.get<int>());
  } else {
    st.closed_loop = false;
    st.load = {{"rate_per_s", rate}};
    st.label = fmt::format("rate={}", rate.is_string() ? rate.get<std::string>() : rate.dump());
    run.field_sources["load"] = fmt::format("{}: start_times (open loop at the recorded send times)", file);
  }
  std::tie(st.window_start_ns, st.window_end_ns) = request_count_window(run.requests);
  run.stages.push_back(st);
  run.resolved_config = {{"loads", {{"duration_s", 0}, {"requests", n}}}, {"model_id", run.model_hint}};
  run.field_sources["lengths"] = fmt::format("{}: input_lens, output_lens", file);
  run.field_sources["window"] = "first send to last finish (vLLM runs a request count)";
  return run;
}

}  // namespace servetwin::formats
