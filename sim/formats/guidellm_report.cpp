#include "sim/formats/guidellm_report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "sim/catalog/catalog.hpp"
#include "sim/formats/foreign_file.hpp"

namespace servetwin::formats {
namespace {

std::optional<double> opt_number(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number()) return std::nullopt;
  return obj[key].get<double>();
}

std::string text_at(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return {};
  return obj[key].get<std::string>();
}

// Token counts: the serialized computed fields, else the usage metrics, else the stream iterations.
std::int64_t tokens(const nlohmann::json& req, const char* computed, const char* metrics) {
  if (auto v = opt_number(req, computed)) return static_cast<std::int64_t>(*v);
  if (auto v = opt_number(req.value(metrics, nlohmann::json::object()), "total_tokens")) return static_cast<std::int64_t>(*v);
  return 0;
}

struct Timings {
  double start = 0;
  std::optional<double> first, end;
};

Timings timings_of(const nlohmann::json& req, const std::string& file, const std::string& path) {
  const auto& info = require(req, "info", file, path);
  const auto& t = require(info, "timings", file, path + "info.");
  Timings out;
  const auto start = opt_number(t, "request_start") ? opt_number(t, "request_start") : opt_number(t, "resolve_start");
  if (!start) throw ConfigError(fmt::format("{}: field '{}info.timings.request_start' missing", file, path));
  out.start = *start;
  out.first = opt_number(t, "first_token_iteration");
  out.end = opt_number(t, "request_end") ? opt_number(t, "request_end") : opt_number(t, "resolve_end");
  return out;
}

// Closed-loop slots of a strategy, or 0 for an open loop.
int strategy_slots(const nlohmann::json& strategy) {
  const std::string type = strategy.value("type_", "");
  if (type == "synchronous") return 1;
  if (type == "concurrent") return strategy.value("streams", 0);
  if (type == "throughput") return strategy.value("max_concurrency", 0);
  return 0;
}

double earliest_start(const nlohmann::json& benchmarks) {
  double t0 = std::numeric_limits<double>::infinity();
  for (const auto& b : benchmarks) {
    if (auto s = opt_number(b, "start_time")) t0 = std::min(t0, *s);
    const auto reqs = b.value("requests", nlohmann::json::object());
    for (const char* group : {"successful", "incomplete", "errored"}) {
      for (const auto& r : reqs.value(group, nlohmann::json::array())) {
        const auto t = r.value("info", nlohmann::json::object()).value("timings", nlohmann::json::object());
        if (auto s = opt_number(t, "request_start")) t0 = std::min(t0, *s);
      }
    }
  }
  return std::isfinite(t0) ? t0 : 0.0;
}

void read_requests(const nlohmann::json& b, int stage, double t0, const std::string& file, LiveRun& run,
                   std::vector<RequestRecord>& out) {
  const auto& reqs = require(b, "requests", file, fmt::format("benchmarks[{}].", stage));
  for (const char* group : {"successful", "incomplete", "errored"}) {
    if (!reqs.contains(group) || !reqs[group].is_array()) continue;
    for (std::size_t i = 0; i < reqs[group].size(); ++i) {
      const auto& q = reqs[group][i];
      const std::string path = fmt::format("benchmarks[{}].requests.{}[{}].", stage, group, i);
      const Timings t = timings_of(q, file, path);
      RequestRecord r;
      r.stage = stage;
      r.request_id = run.requests.size() + out.size();
      r.input_tokens = tokens(q, "prompt_tokens", "input_metrics");
      r.arrival_ns = seconds_to_ns(t.start - t0);
      r.finish_ns = t.end ? seconds_to_ns(*t.end - t0) : r.arrival_ns;
      if (std::string(group) == "successful") {
        r.status = RequestStatus::kOk;
        r.output_tokens = tokens(q, "output_tokens", "output_metrics");
        if (!t.first || !t.end) throw ConfigError(fmt::format("{}: field '{}info.timings.first_token_iteration' or "
                                                              "'request_end' missing for a successful request", file, path));
        r.first_token_ns = seconds_to_ns(*t.first - t0);
        r.ack_ns = r.first_token_ns;
      } else {
        r.status = std::string(group) == "errored" ? RequestStatus::kError : RequestStatus::kCancelled;
        r.error = text_at(q["info"], "error");
      }
      out.push_back(std::move(r));
    }
  }
}

}  // namespace

bool looks_like_guidellm_report(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("benchmarks") || !j["benchmarks"].is_array()) return false;
  return j["benchmarks"].empty() || (j["benchmarks"][0].is_object() && j["benchmarks"][0].contains("requests"));
}

LiveRun read_guidellm_report(const nlohmann::json& j, const std::string& file) {
  const auto& benchmarks = require_array(j, "benchmarks", file, "");
  if (benchmarks.empty()) throw ConfigError(fmt::format("{}: field 'benchmarks' is empty", file));
  LiveRun run;
  run.dir = file;
  run.format = "guidellm-benchmarks";
  const double t0 = earliest_start(benchmarks);
  bool sampled = false;
  for (std::size_t k = 0; k < benchmarks.size(); ++k) {
    const auto& b = benchmarks[k];
    const std::string path = fmt::format("benchmarks[{}].", k);
    const auto& cfg = require(b, "config", file, path);
    const auto& strategy = require(cfg, "strategy", file, path + "config.");
    if (cfg.contains("sample_requests") && cfg["sample_requests"].is_number()) sampled = true;
    if (run.model_hint.empty()) {
      run.model_hint = text_at(cfg.value("backend", nlohmann::json::object()), "model");
    }
    std::vector<RequestRecord> recs;
    read_requests(b, static_cast<int>(k), t0, file, run, recs);
    LiveStage st;
    st.index = static_cast<int>(k);
    const int slots = strategy_slots(strategy);
    if (slots > 0) {
      assign_closed_loop_slots(recs, slots);
      st.load = {{"concurrency", slots}};
      st.label = fmt::format("concurrency={}", slots);
    } else {
      st.closed_loop = false;
      st.load = {{"rate_per_s", strategy.value("rate", nlohmann::json())}, {"arrival", strategy.value("type_", "")}};
      st.label = fmt::format("{}@{}", strategy.value("type_", "open"), strategy.value("rate", nlohmann::json()).dump());
    }
    const auto start = opt_number(b, "start_time"), end = opt_number(b, "end_time");
    if (start && end && *end > *start) {
      st.window_start_ns = seconds_to_ns(*start - t0);
      st.window_end_ns = seconds_to_ns(*end - t0);
    } else {
      std::tie(st.window_start_ns, st.window_end_ns) = request_count_window(recs);
    }
    run.stages.push_back(st);
    run.requests.insert(run.requests.end(), recs.begin(), recs.end());
  }
  const auto& w = run.stages.front();
  run.resolved_config = {{"loads", {{"duration_s", ns_to_seconds(w.window_end_ns - w.window_start_ns)}}}};
  run.field_sources["load"] = fmt::format("{}: benchmarks[].config.strategy (type_, streams, rate, max_concurrency)", file);
  run.field_sources["lengths"] = fmt::format("{}: requests.*[].prompt_tokens / output_tokens", file);
  run.field_sources["window"] = fmt::format("{}: benchmarks[].start_time..end_time (measurement window)", file);
  if (sampled) run.field_sources["sampling"] = "config.sample_requests is set: only a sample of the requests is listed";
  return run;
}

}  // namespace servetwin::formats
