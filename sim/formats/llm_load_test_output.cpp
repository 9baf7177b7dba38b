#include "sim/formats/llm_load_test_output.hpp"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "sim/catalog/catalog.hpp"
#include "sim/formats/foreign_file.hpp"

namespace servetwin::formats {
namespace {

// Epoch seconds of a result's time field, or nullopt when null / absent.
std::optional<double> epoch_s(const nlohmann::json& r, const char* key, const std::string& file, std::size_t i) {
  if (!r.contains(key) || r[key].is_null()) return std::nullopt;
  if (!r[key].is_number()) throw ConfigError(fmt::format("{}: field 'results[{}].{}' is {}, expected epoch seconds", file, i, key, r[key].dump()));
  return r[key].get<double>();
}

bool failed(const nlohmann::json& r) {
  return (r.contains("error_code") && !r["error_code"].is_null()) || (r.contains("error_text") && !r["error_text"].is_null());
}

}  // namespace

bool looks_like_llm_load_test_output(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("results") || !j["results"].is_array() || !j.contains("summary")) return false;
  const auto& s = j["summary"];
  return s.is_object() && (s.contains("throughput") || s.contains("total_requests"));
}

LiveRun read_llm_load_test_output(const nlohmann::json& j, const std::string& file) {
  const auto& results = require_array(j, "results", file, "");
  double t0 = INFINITY;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto s = epoch_s(results[i], "start_time", file, i);
    if (!s) throw ConfigError(fmt::format("{}: field 'results[{}].start_time' missing", file, i));
    t0 = std::min(t0, *s);
  }
  LiveRun run;
  run.dir = file;
  run.format = "llm-load-test-output";
  std::set<std::int64_t> users;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& q = results[i];
    RequestRecord r;
    r.request_id = i;
    r.user_id = static_cast<std::int64_t>(require_number(q, "user_id", file, fmt::format("results[{}].", i)));
    users.insert(r.user_id);
    r.input_tokens = q.value("input_tokens", 0);
    r.arrival_ns = seconds_to_ns(*epoch_s(q, "start_time", file, i) - t0);
    const auto end = epoch_s(q, "end_time", file, i);
    r.finish_ns = end ? seconds_to_ns(*end - t0) : r.arrival_ns;
    if (failed(q)) {
      r.status = RequestStatus::kError;
      r.error = q.contains("error_text") && q["error_text"].is_string() ? q["error_text"].get<std::string>()
                                                                       : q.value("error_code", nlohmann::json()).dump();
    } else {
      const auto first = epoch_s(q, "first_token_time", file, i);
      if (!first || !end) throw ConfigError(fmt::format("{}: field 'results[{}].first_token_time' or 'end_time' missing "
                                                        "for a request without error", file, i));
      r.status = RequestStatus::kOk;
      r.output_tokens = q.value("output_tokens", 0);
      r.first_token_ns = seconds_to_ns(*first - t0);
      const auto ack = epoch_s(q, "ack_time", file, i);
      r.ack_ns = ack ? seconds_to_ns(*ack - t0) : r.first_token_ns;
      r.stop_reason = q.contains("stop_reason") && q["stop_reason"].is_string() ? q["stop_reason"].get<std::string>() : "";
    }
    run.requests.push_back(std::move(r));
  }
  const auto cfg = j.value("config", nlohmann::json::object());
  const auto lo = cfg.value("load_options", nlohmann::json::object());
  const int users_n = lo.contains("concurrency") && lo["concurrency"].is_number_integer() ? lo["concurrency"].get<int>()
                                                                                         : static_cast<int>(users.size());
  LiveStage st;
  st.load = {{"concurrency", users_n}};
  st.label = fmt::format("concurrency={}", users_n);
  const double duration_s = lo.contains("duration") && lo["duration"].is_number() ? lo["duration"].get<double>() : 0.0;
  if (duration_s > 0) {
    st.window_start_ns = 0;
    st.window_end_ns = seconds_to_ns(duration_s);
  } else {
    std::tie(st.window_start_ns, st.window_end_ns) = request_count_window(run.requests);
  }
  run.stages.push_back(st);
  run.resolved_config = {{"loads", {{"duration_s", duration_s}}}};
  run.model_hint = cfg.value("plugin_options", nlohmann::json::object()).value("model_name", nlohmann::json("")).is_string()
                       ? cfg.value("plugin_options", nlohmann::json::object()).value("model_name", std::string())
                       : std::string();
  run.field_sources["load"] = fmt::format("{}: config.load_options.concurrency (closed loop, results[].user_id)", file);
  run.field_sources["window"] = fmt::format("{}: first start_time + config.load_options.duration", file);
  run.field_sources["lengths"] = fmt::format("{}: results[].input_tokens, output_tokens", file);
  return run;
}

}  // namespace servetwin::formats
