#include "sim/validate/live_validate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/core/path_check.hpp"
#include "sim/engine/serving_sim.hpp"
#include "sim/formats/read_any_run.hpp"
#include "sim/metrics/stage_metrics.hpp"
#include "sim/validate/live_resimulate.hpp"
#include "sim/validate/server_metrics_window.hpp"
#include "sim/formats/live_run_reader.hpp"
#include "sim/validate/validate.hpp"

namespace servetwin {
namespace {

constexpr const char* kDeploymentField = "scenarios[0].resolved_config.server_deployment";

DeploymentConfig deployment_from_json(const nlohmann::json& j, const std::string& file) {
  DeploymentConfig d;
  try {
    d.model = j.at("model").get<std::string>();
    d.instance = j.value("instance", std::string());
    d.gpu = j.value("gpu", std::string());
    d.interconnect = j.value("interconnect", std::string());
    d.num_gpus = j.value("num_gpus", 0);
    d.tp = j.value("tp", 0);
    d.engine = j.value("engine", d.engine);
    d.dtype = j.value("dtype", d.dtype);
    if (j.contains("engine_set")) d.engine_set = j["engine_set"].get<std::map<std::string, std::string>>();
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(fmt::format("{}: field '{}': {}", file, kDeploymentField, e.what()));
  }
  return d;
}

// Window of the re-simulated stage. Duration mode: the live window (the client stopped sending at
// its end in both). Request-count mode: as the runner defines it, from the first measured send to
// the last measured finish, here of the simulated requests.
std::pair<TimeNs, TimeNs> predicted_window(const LiveStage& st, bool duration_mode, const std::vector<RequestRecord>& sim,
                                           const std::set<std::uint64_t>& measured) {
  if (duration_mode) return {st.window_start_ns, st.window_end_ns};
  TimeNs first = -1, last = -1;
  for (const auto& r : sim) {
    if (measured.count(r.request_id) == 0) continue;
    first = first < 0 ? r.arrival_ns : std::min(first, r.arrival_ns);
    last = std::max(last, r.finish_ns);
  }
  if (first < 0) return {st.window_start_ns, st.window_end_ns};
  return {first, last + 1};
}

// One live stage's requests: the measured ones (scored), and those to replay (measured + warmup).
struct StageRequests {
  std::vector<RequestRecord> live;
  std::vector<RequestRecord> replay;
  std::set<std::uint64_t> measured;
};

StageRequests stage_requests(const LiveRun& run, int stage_index) {
  StageRequests out;
  for (const auto& r : run.requests) {
    if (r.stage != stage_index) continue;
    out.live.push_back(r);
    out.replay.push_back(r);
    out.measured.insert(r.request_id);
  }
  for (const auto& r : run.warmup) {
    if (r.stage == stage_index) out.replay.push_back(r);
  }
  return out;
}

// The requests of earlier stages (warm-ups included) that the same server ran before `stage_index`,
// with the dataset prompt each sent: what its prefix cache may still hold when the stage begins.
std::vector<PastRequest> requests_before_stage(const LiveRun& run, int stage_index) {
  std::vector<PastRequest> out;
  if (run.prompt_of.empty()) return out;  // no prompt identities: nothing can hit
  for (const auto* set : {&run.requests, &run.warmup})
    for (const auto& r : *set) {
      if (r.stage >= stage_index || r.status != RequestStatus::kOk || r.arrival_ns < 0) continue;
      // Requests without a dataset prompt still took (and evicted) blocks.
      const auto it = run.prompt_of.find(r.request_id);
      out.push_back({r.arrival_ns, r.finish_ns, it == run.prompt_of.end() ? -1 : it->second, r.input_tokens, r.output_tokens});
    }
  return out;
}

// Errors of the re-simulation name where the deployment came from (`where`).
LiveStageReplay resimulate_stage(const Catalog& catalog, const DeploymentConfig& d, const std::string& where,
                                 int stage_index, std::vector<RequestRecord> replay, const ReplayOptions& options) {
  try {
    return resimulate_live_stage(catalog, d, stage_index, std::move(replay), options);
  } catch (const DoesNotFitError& e) {
    throw ConfigError(fmt::format("{}: the deployment cannot run: {}", where, e.what()));
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", where, e.what()));
  }
}

// The re-simulated side of one live stage: the records scored (the measured requests' and, in duration
// mode, the extensions') and the predicted window.
struct SimulatedStage {  // NOLINT(bugprone-exception-escape): nlohmann::json moves, as ScenarioResult (summary.hpp)
  std::vector<RequestRecord> scored;
  std::size_t replayed = 0, extended = 0;
  TimeNs start_ns = 0, end_ns = 0;
  nlohmann::json engine_stats;
};

SimulatedStage simulate_stage(const Catalog& catalog, const LiveDeployment& dep, const LiveRun& run, const LiveStage& st,
                              StageRequests& reqs, bool duration_mode) {
  // Duration-mode closed loops keep sending until the window ends; repeated prompts share their
  // prefix (live_resimulate.hpp).
  ReplayOptions replay_options;
  replay_options.keep_sending_until_ns = duration_mode && st.closed_loop ? st.window_end_ns : -1;
  replay_options.prompt_of = &run.prompt_of;
  replay_options.earlier_requests = requests_before_stage(run, st.index);
  const LiveStageReplay sim = resimulate_stage(catalog, dep.d, dep.where, st.index, std::move(reqs.replay), replay_options);
  SimulatedStage out;
  out.replayed = sim.records.size();
  out.engine_stats = sim.engine_stats;
  for (const auto& r : sim.records) {
    const bool extension = r.request_id >= kReplayExtensionIdBase;
    out.extended += extension;
    if (extension || reqs.measured.count(r.request_id) != 0) out.scored.push_back(r);
  }
  std::tie(out.start_ns, out.end_ns) = predicted_window(st, duration_mode, out.scored, reqs.measured);
  return out;
}

// What every row of one live run shares.
struct LiveRowContext {
  std::string source;  // the run directory's name
  std::string dir;     // the run directory as given
  const DeploymentConfig* deployment;
  std::string fit_set;
};

// The identity, load and deployment columns of one stage's row.
nlohmann::json stage_row_header(const LiveRowContext& ctx, const LiveStage& st, const std::string& id) {
  const DeploymentConfig& d = *ctx.deployment;
  nlohmann::json row;
  row["source_id"] = id;
  row["file"] = ctx.source;
  row["source"] = ctx.dir;
  row["stage"] = st.index;
  row["label"] = st.label;
  row["engine_preset"] = d.engine;
  row["fit_set"] = ctx.fit_set;
  row["scored"] = true;  // a live run is never part of a preset's fit set
  row["load_type"] = st.closed_loop ? "closed_concurrency" : "open_rate";
  row["load"] = st.load;
  if (st.closed_loop) row["load_value"] = st.load["concurrency"];
  else if (st.load.contains("rate_per_s")) row["load_value"] = st.load["rate_per_s"];
  row["model"] = d.model;
  row["gpu"] = d.gpu;
  row["tp"] = d.tp;
  row["deployment"] = to_json(d);
  return row;
}

// predicted / measured / ape per metric column; signed % errors are appended per metric.
void add_metric_columns(nlohmann::json& row, const StageMetrics& lm, const StageMetrics& pm,
                        std::map<std::string, std::vector<double>>& signed_errors) {
  const nlohmann::json lj = lm.to_json(), pj = pm.to_json();
  row["predicted"] = nlohmann::json::object();
  row["measured"] = nlohmann::json::object();
  row["ape"] = nlohmann::json::object();
  row["metric_definitions"] = nlohmann::json::object();
  for (const auto& col : validation_metric_columns()) {
    const double meas = lj.at(col).get<double>();
    const double pred = pj.at(col).get<double>();
    row["predicted"][col] = pred;
    row["measured"][col] = meas;
    row["metric_definitions"][col] = "compute_stage_metrics on both sides (docs/output-schema.md)";
    if (meas != 0) {
      const double err = (pred - meas) / std::abs(meas) * 100.0;
      row["ape"][col] = std::abs(err);
      signed_errors[col].push_back(err);
    }
  }
}

// The engine's own view of the replayed stage (batch sizes, engine-specific counters).
nlohmann::json engine_columns(const StageMetrics& pm, const nlohmann::json& es) {
  nlohmann::json eng = {{"requests", pm.requests}, {"rejected", pm.rejected}};
  if (es.contains("batch")) {
    eng["batch_max"] = es["batch"].value("max", nlohmann::json());
    eng["batch_mean"] = es["batch"].value("mean_while_busy", nlohmann::json());
  }
  if (es.contains("engine_specific")) eng["engine_specific"] = es["engine_specific"];
  return eng;
}

// The server's own scraped view of a stage (metrics.csv) beside the simulated engine's.
nlohmann::json server_metrics_columns(nlohmann::json measured, const nlohmann::json& eng) {
  const auto& spec_stats = eng.value("engine_specific", nlohmann::json::object());
  return {{"measured", std::move(measured)},
          {"predicted", {{"batch_mean", eng.value("batch_mean", nlohmann::json())},
                         {"max_waiting", spec_stats.value("max_waiting", nlohmann::json())},
                         {"preemptions", spec_stats.value("preemptions", nlohmann::json())}}}};
}

// What a stage keeps for pooling: its measured and simulated records and windows.
struct StagePart {
  const LiveStage* stage;
  std::vector<RequestRecord> live, sim;
  TimeNs pred_start_ns, pred_end_ns;
  nlohmann::json engine;  // engine_columns of the pass
};

// The simulated engine over a load's passes: the passes' mean batch averaged, maxima over passes,
// preemptions summed.
nlohmann::json pooled_engine_columns(const std::vector<const StagePart*>& group) {
  double batch_mean_sum = 0, batch_mean_n = 0;
  nlohmann::json out = {{"requests", 0}}, spec = nlohmann::json::object();
  for (const StagePart* part : group) {
    const nlohmann::json& e = part->engine;
    out["requests"] = out["requests"].get<std::size_t>() + e.value("requests", std::size_t{0});
    if (e.contains("batch_mean") && e["batch_mean"].is_number()) {
      batch_mean_sum += e["batch_mean"].get<double>();
      ++batch_mean_n;
    }
    if (e.contains("batch_max") && e["batch_max"].is_number())
      out["batch_max"] = std::max(out.value("batch_max", 0.0), e["batch_max"].get<double>());
    const nlohmann::json es = e.value("engine_specific", nlohmann::json::object());
    if (es.contains("preemptions") && es["preemptions"].is_number())
      spec["preemptions"] = spec.value("preemptions", 0.0) + es["preemptions"].get<double>();
    if (es.contains("max_waiting") && es["max_waiting"].is_number())
      spec["max_waiting"] = std::max(spec.value("max_waiting", 0.0), es["max_waiting"].get<double>());
  }
  if (batch_mean_n > 0) out["batch_mean"] = batch_mean_sum / batch_mean_n;
  out["engine_specific"] = spec;
  return out;
}

// A sweep that repeats its loads in passes (`load --concurrency 1,2,4,1,2,4`: the same label more than
// once) is scored per load over all its passes: one row per label that occurs more than once, measured and
// predicted pooled by the same code (compute_pooled_stage_metrics). Empty when no label repeats.
nlohmann::json pooled_rows(const LiveRowContext& ctx, const std::vector<StagePart>& parts,
                           const std::optional<std::vector<ServerScrape>>& scraped) {
  std::map<std::string, std::vector<const StagePart*>> by_label;
  std::vector<std::string> order;  // labels in first-seen order (the sweep's order of loads)
  for (const auto& part : parts) {
    auto& v = by_label[part.stage->label];
    if (v.empty()) order.push_back(part.stage->label);
    v.push_back(&part);
  }
  std::map<std::string, std::vector<double>> unused_errors;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& label : order) {
    const auto& group = by_label[label];
    if (group.size() < 2) continue;
    std::vector<StageSlice> live_slices, sim_slices;
    std::vector<std::pair<TimeNs, TimeNs>> measured_windows;
    nlohmann::json stages = nlohmann::json::array(), windows = nlohmann::json::array();
    for (const StagePart* part : group) {
      const LiveStage& st = *part->stage;
      live_slices.push_back({&part->live, st.index, st.window_start_ns, st.window_end_ns});
      measured_windows.emplace_back(st.window_start_ns, st.window_end_ns);
      sim_slices.push_back({&part->sim, st.index, part->pred_start_ns, part->pred_end_ns});
      stages.push_back(st.index);
      windows.push_back({{"measured", {st.window_start_ns, st.window_end_ns}},
                         {"predicted", {part->pred_start_ns, part->pred_end_ns}}});
    }
    const StageMetrics lm = compute_pooled_stage_metrics(live_slices, group.front()->stage->index);
    const StageMetrics pm = compute_pooled_stage_metrics(sim_slices, group.front()->stage->index);
    nlohmann::json row = stage_row_header(ctx, *group.front()->stage, fmt::format("{}:pooled:{}", ctx.source, label));
    row["stages"] = stages;
    row["passes"] = group.size();
    row["window_ns"] = windows;
    add_metric_columns(row, lm, pm, unused_errors);
    row["requests"] = {{"measured", lm.requests}, {"measured_ok", lm.completed}, {"predicted_ok", pm.completed}};
    row["engine"] = pooled_engine_columns(group);
    if (scraped) row["server_metrics"] = server_metrics_columns(server_metrics_in_windows(*scraped, measured_windows), row["engine"]);
    rows.push_back(std::move(row));
  }
  return rows;
}

nlohmann::json live_metric_notes() {
  return {
      {"replay", "each stage is re-simulated with the live run's requests (lengths as the server reported them); "
                 "closed loop: each user's next request follows its previous simulated finish after the recorded "
                 "client turnaround, and in duration mode users keep sending (the recorded lengths again, the "
                 "median turnaround) until the window ends; open loop: recorded send times; warmup requests "
                 "replayed, not scored"},
      {"itl_mean_ms", "pooled gaps sum(e2e-ttft)/sum(out-1) on both sides"},
      {"tpot_mean_ms", "(e2e - ttft)/(out - 1) per request, averaged over requests"},
      {"throughput_output_tok_s", "output tokens of requests finished in the window / window (duration mode: the "
                                  "live window on both sides; request mode: first measured send to last finish)"},
      {"pooled_rows", "only when the run repeats a load in passes (the same stage label more than once): one row per "
                      "such load over all its passes, each side's requests pooled, windows summed; `rows` keep every "
                      "pass, and the per-metric summary is over `rows`"}};
}

}  // namespace

LiveDeployment live_run_deployment(const Catalog& catalog, const LiveValidateOptions& opts, const std::string& format,
                                   const nlohmann::json& resolved_config, const std::string& model_hint) {
  const bool own_dir = format == "servetwin-load-dir";
  const std::string sfile = own_dir ? (opts.dir / "summary.json").string() : opts.dir.string();
  LiveDeployment out;
  if (opts.deployment) {
    out.d = *opts.deployment;
    out.from = "flags";
    // A servetwin run's recorded deployment names the model even when the flags change the hardware.
    const std::string hint = !model_hint.empty() || !own_dir || !resolved_config.contains("server_deployment")
                                 ? model_hint
                                 : resolved_config["server_deployment"].value("model", std::string());
    if (out.d.model.empty() && !hint.empty()) {
      out.d.model = hint;
      out.from = fmt::format("flags; model from {} ({})", sfile, format);
    }
    if (out.d.model.empty()) {
      throw ConfigError(fmt::format("{}: the {} run names no model: pass --model", sfile, format));
    }
  } else if (own_dir && resolved_config.contains("server_deployment")) {
    out.d = deployment_from_json(resolved_config["server_deployment"], sfile);
    out.from = kDeploymentField;
  } else if (own_dir) {
    throw ConfigError(fmt::format("{}: field '{}' missing: the run did not record the server's deployment (pass "
                                  "--model/--instance/... to `servetwin load`, or to `servetwin validate --live`)",
                                  sfile, kDeploymentField));
  } else {
    throw ConfigError(fmt::format("{}: a {} file does not record the server's hardware and engine: pass --gpu or "
                                  "--instance (and --tp, --engine, --model{}) to `servetwin validate --live`",
                                  sfile, format,
                                  model_hint.empty() ? std::string() : fmt::format("; the file names model '{}'", model_hint)));
  }
  out.where = out.from == kDeploymentField ? fmt::format("{}: field '{}'", sfile, kDeploymentField)
                                           : std::string("the deployment flags");
  try {
    out.d = resolve_deployment(catalog, out.d);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", out.where, e.what()));
  }
  return out;
}

nlohmann::json run_live_validation(const Catalog& catalog, const LiveValidateOptions& opts) {
  formats::AnyRun any = formats::read_any_run(opts.dir);
  if (any.aggregate) return run_aggregate_validation(catalog, opts, *any.aggregate);
  const LiveRun run = std::move(*any.per_request);
  const LiveDeployment dep = live_run_deployment(catalog, opts, run.format, run.resolved_config, run.model_hint);
  const DeploymentConfig& d = dep.d;
  const EngineSpec& spec = catalog.engine(d.engine);
  const auto fit_it = spec.text_settings.find("fitted_on");
  const bool duration_mode = run.resolved_config.contains("loads") &&
                             run.resolved_config["loads"].value("duration_s", 0.0) > 0;
  const LiveRowContext ctx{opts.dir.filename().empty() ? opts.dir.parent_path().filename().string()
                                                       : opts.dir.filename().string(),
                           opts.dir.string(), &d,
                           fit_it == spec.text_settings.end() ? "none" : fit_it->second};
  const std::string& source = ctx.source;
  nlohmann::json src = {{"rows", 0},  {"ran", 0}, {"scored", 0}, {"unsupported", nlohmann::json::array()},
                        {"fit_excluded", nlohmann::json::array()}, {"metrics", nlohmann::json::object()}};
  std::map<std::string, std::vector<double>> signed_errors;  // metric -> % errors over stages
  nlohmann::json rows = nlohmann::json::array();
  std::vector<StagePart> parts;
  std::optional<std::vector<ServerScrape>> scraped;  // the server's /metrics series, when the run scraped it
  if (const auto csv = opts.dir / "metrics.csv"; check_path(csv).regular) scraped = read_server_scrapes(csv);
  std::size_t ran = 0;
  for (const auto& st : run.stages) {
    src["rows"] = src["rows"].get<int>() + 1;
    const std::string id = fmt::format("{}:stage{}:{}", source, st.index, st.label);
    StageRequests reqs = stage_requests(run, st.index);
    const StageMetrics lm = compute_stage_metrics(reqs.live, st.index, st.window_start_ns, st.window_end_ns);
    if (lm.completed == 0) {
      src["unsupported"].push_back({{"source_id", id}, {"reason", "no request completed ok in the live stage"}});
      continue;
    }
    SimulatedStage sim = simulate_stage(catalog, dep, run, st, reqs, duration_mode);
    const TimeNs ws = sim.start_ns, we = sim.end_ns;
    const StageMetrics pm = compute_stage_metrics(sim.scored, st.index, ws, we);
    const nlohmann::json engine = engine_columns(pm, sim.engine_stats);
    parts.push_back({&st, std::move(reqs.live), std::move(sim.scored), ws, we, engine});
    ++ran;
    src["ran"] = src["ran"].get<int>() + 1;
    src["scored"] = src["scored"].get<int>() + 1;
    nlohmann::json row = stage_row_header(ctx, st, id);
    add_metric_columns(row, lm, pm, signed_errors);
    row["requests"] = {{"measured", lm.requests}, {"measured_ok", lm.completed}, {"replayed", sim.replayed},
                       {"extended", sim.extended}, {"predicted_ok", pm.completed}};
    row["window_ns"] = {{"measured", {st.window_start_ns, st.window_end_ns}}, {"predicted", {ws, we}}};
    row["engine"] = engine;
    if (scraped)
      row["server_metrics"] = server_metrics_columns(server_metrics_in_window(*scraped, st.window_start_ns, st.window_end_ns), row["engine"]);
    rows.push_back(std::move(row));
  }
  for (auto& [col, errs] : signed_errors) src["metrics"][col] = error_summary(errs);
  const std::size_t total = run.stages.size();
  nlohmann::json report;
  report["schema_version"] = 1;
  report["sources"] = {{source, src}};
  report["rows"] = rows;
  if (nlohmann::json pooled = pooled_rows(ctx, parts, scraped); !pooled.empty()) report["pooled_rows"] = std::move(pooled);
  report["coverage"] = {{"rows", total},
                        {"ran", ran},
                        {"fraction", total > 0 ? static_cast<double>(ran) / static_cast<double>(total) : 0.0}};
  report["live"] = {{"dir", opts.dir.string()},
                    {"partial", run.partial},
                    {"deployment", to_json(d)},
                    {"deployment_from", dep.from},
                    {"format", run.format},
                    {"field_sources", run.field_sources},
                    {"window_mode", duration_mode ? "duration" : "requests"}};
  if (scraped) report["live"]["server_metrics_run"] = server_metrics_over_run(*scraped);
  report["metric_notes"] = live_metric_notes();
  return report;
}

namespace {
// The server's scraped view next to the simulated engine's (different statistics: a time mean of
// scrapes vs the simulator's mean batch while busy and its longest queue).
void print_server_metrics(std::ostream& os, const nlohmann::json& sm) {
  auto num = [](const nlohmann::json& v) { return v.is_number() ? fmt::format("{:.3f}", v.get<double>()) : std::string("n/a"); };
  const auto& m = sm["measured"];
  const auto& p = sm["predicted"];
  os << fmt::format("  {:<52} {:>10} {:>10}\n", "server running (mean) / sim batch (mean while busy)", num(m["running_mean"]),
                    num(p["batch_mean"]));
  os << fmt::format("  {:<52} {:>10} {:>10}\n", "server waiting (mean) / sim waiting (max)", num(m["waiting_mean"]),
                    num(p["max_waiting"]));
  os << fmt::format("  {:<52} {:>10} {:>10}\n", "server preemptions / sim preemptions", num(m["preemptions"]),
                    num(p["preemptions"]));
  os << fmt::format("  {:<52} {:>10}\n", "server KV cache usage (max)", num(m["kv_usage_max"]));
}

// metric, measured, predicted, signed error % of one row.
void print_metric_block(std::ostream& os, const nlohmann::json& row) {
  os << fmt::format("  {:<30} {:>14} {:>14} {:>9}\n", "metric", "measured", "predicted", "error%");
  for (const auto& col : validation_metric_columns()) {
    if (!row["measured"].contains(col)) continue;  // an aggregate report may lack a metric
    const double meas = row["measured"][col].get<double>();
    const double pred = row["predicted"][col].get<double>();
    const std::string err = meas != 0 ? fmt::format("{:+.1f}", (pred - meas) / std::abs(meas) * 100.0) : "n/a";
    os << fmt::format("  {:<30} {:>14.3f} {:>14.3f} {:>9}\n", col, meas, pred, err);
  }
}
}  // namespace

void print_live_validation_tables(std::ostream& os, const nlohmann::json& report) {
  const auto& live = report["live"];
  const auto& dep = live["deployment"];
  os << fmt::format("live run {}: {} on {} x{} TP{} ({}){}\n", live["dir"].get<std::string>(),
                    dep["model"].get<std::string>(),
                    dep["instance"].get<std::string>().empty() ? dep["gpu"].get<std::string>()
                                                               : dep["instance"].get<std::string>(),
                    dep["num_gpus"].get<int>(), dep["tp"].get<int>(), dep["engine"].get<std::string>(),
                    live["partial"].get<bool>() ? " [partial run]" : "");
  for (const auto& row : report["rows"]) {
    os << fmt::format("\n-- stage {} ({}): measured vs predicted\n", row["stage"].get<int>(),
                      row["label"].get<std::string>());
    print_metric_block(os, row);
    if (row.contains("server_metrics")) print_server_metrics(os, row["server_metrics"]);
  }
  for (const auto& row : report.value("pooled_rows", nlohmann::json::array())) {
    os << fmt::format("\n-- {} pooled over {} passes (stages {}): measured vs predicted\n", row["label"].get<std::string>(),
                      row["passes"].get<int>(), row["stages"].dump());
    print_metric_block(os, row);
    if (row.contains("server_metrics")) print_server_metrics(os, row["server_metrics"]);
  }
  print_validation_tables(os, report);
}

}  // namespace servetwin
