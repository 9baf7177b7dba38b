#include "sim/scenario/run_output.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <ostream>

namespace servetwin {

nlohmann::json stage_to_json(const StageResult& st) {
  nlohmann::json j = {{"load", st.load}, {"metrics", st.metrics.to_json()}, {"engine", st.engine_stats},
                      {"cost", st.cost}, {"events", st.events}};
  if (!st.rejections.is_null()) j["rejections"] = st.rejections;  // only stages with rejections carry it
  if (!st.client_backoff.is_null()) j["client_backoff"] = st.client_backoff;  // only with --client-backoff
  if (!st.interval.is_null()) j["interval"] = st.interval;        // predictions carry one, live runs do not
  return j;
}

std::vector<ScenarioResult> to_scenario_results(const std::vector<ScenarioRun>& runs) {
  std::vector<ScenarioResult> out;
  for (const auto& run : runs) {
    ScenarioResult r;
    r.name = run.scenario.name;
    r.resolved_config = run.resolved_config;
    if (!run.error.empty()) r.resolved_config["error"] = run.error;
    for (const auto& st : run.stages) r.stages.push_back(stage_to_json(st));
    out.push_back(std::move(r));
  }
  return out;
}

void write_run_outputs(const std::filesystem::path& dir, const RunInfo& info, const std::vector<ScenarioRun>& runs) {
  std::filesystem::create_directories(dir);
  write_json_file(dir / "summary.json", make_summary(info, to_scenario_results(runs)));
  const auto csv = dir / "requests.csv";
  std::ofstream out(csv, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + csv.string());
  std::size_t records = 0;
  for (const auto& run : runs) {
    for (const auto& st : run.stages) records += st.records.size();
  }
  std::string text;
  text.reserve(128 * (records + 1));  // a line is ~90 bytes: one allocation for the whole file
  text += request_csv_header();
  text += '\n';
  for (std::size_t i = 0; i < runs.size(); ++i) {
    for (const auto& st : runs[i].stages) {
      for (const auto& r : st.records) {
        const std::size_t start = text.size();
        append_request_csv_line(text, r);
        // The record's scenario index is the run's position, whatever the record carried.
        if (r.scenario != static_cast<int>(i)) {
          text.resize(start);
          RequestRecord copy = r;
          copy.scenario = static_cast<int>(i);
          append_request_csv_line(text, copy);
        }
        text += '\n';
      }
    }
  }
  out << text;
}

namespace {

std::string level_text(const nlohmann::json& load) {
  if (load.contains("concurrency")) return fmt::format("{}", load["concurrency"].get<std::int64_t>());
  if (load.contains("rate_per_s")) return fmt::format("{:g}/s", load["rate_per_s"].get<double>());
  return "trace";
}

std::string opt_num(const nlohmann::json& j, const char* key, const char* format) {
  if (!j.contains(key) || j[key].is_null()) return "-";
  return fmt::format(fmt::runtime(format), j[key].get<double>());
}

// "123.4 [98.1-140.2]": a value with its interval's bounds ("123.4" when the interval has none for `metric`).
std::string value_with_bounds(double value, const nlohmann::json& interval, const char* metric, int decimals) {
  std::string text = fmt::format("{:.{}f}", value, decimals);
  if (!interval["bounds"].contains(metric)) return text;
  const auto& b = interval["bounds"][metric];
  return fmt::format("{} [{:.{}f}-{:.{}f}]", text, b[0].get<double>(), decimals, b[1].get<double>(), decimals);
}

// Under a stage's row: its prediction interval as `value [lo-hi]`, and why it is out of evidence if it is.
void print_interval_line(std::ostream& os, const StageResult& st) {
  if (st.interval.is_null()) return;
  const auto& m = st.metrics;
  const nlohmann::json& iv = st.interval;
  os << fmt::format("{:>6} {:.0f}% interval: out_tok/s {}  ttft_p50 {}  tpot {}  e2e_p50 {}\n", "",
                    100 * iv["level"].get<double>(),
                    value_with_bounds(m.throughput_output_tok_s, iv, "throughput_output_tok_s", 1),
                    value_with_bounds(m.ttft_ms.p50, iv, "ttft_p50_ms", 1), value_with_bounds(m.tpot_ms.mean, iv, "tpot_mean_ms", 2),
                    value_with_bounds(m.e2e_ms.p50, iv, "e2e_p50_ms", 1));
  if (iv["out_of_evidence"].get<bool>()) os << fmt::format("{:>6} out of evidence: {}\n", "", iv["reason"].get<std::string>());
}

void print_stage_table(std::ostream& os, const ScenarioRun& run) {
  // Rejected (engine refused: queue full, too long) and failed (error, timeout) requests have their
  // own columns: a stage that served nothing must not read as a quiet row of zeros.
  os << fmt::format("{:>6} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9} {:>6} {:>5} {:>6} {:>8} {:>8} {:>8} {:>6}\n",
                    "load", "out_tok/s", "ttft_p50", "ttft_p95", "tpot", "itl", "e2e_p50", "e2e_p95", "batch", "max",
                    "kv_pk%", "min/1M", "usd/1M", "rejected", "failed");
  os << fmt::format("{:>6} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>9} {:>6} {:>5} {:>6} {:>8} {:>8} {:>8} {:>6}\n", "",
                    "", "ms", "ms", "ms", "ms", "ms", "ms", "mean", "", "", "", "", "", "");
  for (const auto& st : run.stages) {
    const auto& m = st.metrics;
    const auto& batch = st.engine_stats["batch"];
    os << fmt::format(
        "{:>6} {:>9.1f} {:>9.1f} {:>9.1f} {:>8.2f} {:>8.2f} {:>9.1f} {:>9.1f} {:>6.1f} {:>5} {:>6.1f} {:>8} {:>8} {:>8} "
        "{:>6}\n",
        level_text(st.load), m.throughput_output_tok_s, m.ttft_ms.p50, m.ttft_ms.p95, m.tpot_ms.mean, m.itl_mean_ms,
        m.e2e_ms.p50, m.e2e_ms.p95, batch["mean_while_busy"].get<double>(), batch["max"].get<std::int64_t>(),
        100 * st.engine_stats["kv"]["peak_fraction"].get<double>(),
        opt_num(st.cost, "minutes_per_1m_output_tokens", "{:.1f}"), opt_num(st.cost, "usd_per_1m_output_tokens", "{:.2f}"),
        m.rejected, m.errors + m.timeouts);
    print_interval_line(os, st);
  }
}

const StageResult* stage_at_level(const ScenarioRun& run, double level) {
  const StageResult* pick = nullptr;
  for (const auto& st : run.stages) {
    const double lv = st.load.value("concurrency", 0.0) + st.load.value("rate_per_s", 0.0);
    if (std::abs(lv - level) < 1e-9) pick = &st;
  }
  return pick;
}

}  // namespace

void print_run_tables(std::ostream& os, const std::vector<ScenarioRun>& runs, double cost_level) {
  for (const auto& run : runs) {
    os << "\n== " << run.scenario.name << "\n";
    if (!run.error.empty()) {
      os << "   cannot run: " << run.error << "\n";
      continue;
    }
    print_stage_table(os, run);
  }
  // The name column is as wide as the longest name: cutting it dropped the TP degree and engine.
  std::size_t name_w = std::string("configuration").size();
  bool any = false;
  for (const auto& run : runs) {
    if (stage_at_level(run, cost_level) == nullptr) continue;
    any = true;
    name_w = std::max(name_w, run.scenario.name.size());
  }
  if (!any) return;  // no stage at this load: no table (a header over nothing reads as a failure)
  os << fmt::format("\nCost at load {:g} (Table 2 style)\n", cost_level);
  os << fmt::format("{:<{}} {:>9} {:>10} {:>8} {:>8}\n", "configuration", name_w, "out_tok/s", "min/1M tok", "USD/h",
                    "USD/1M");
  for (const auto& run : runs) {
    const StageResult* pick = stage_at_level(run, cost_level);
    if (pick == nullptr) continue;
    os << fmt::format("{:<{}} {:>9.1f} {:>10} {:>8} {:>8}\n", run.scenario.name, name_w,
                      pick->metrics.throughput_output_tok_s, opt_num(pick->cost, "minutes_per_1m_output_tokens", "{:.1f}"),
                      opt_num(pick->cost, "usd_per_hour", "{:.3f}"), opt_num(pick->cost, "usd_per_1m_output_tokens", "{:.2f}"));
  }
}

std::string cannot_serve_reason(const std::vector<ScenarioRun>& runs) {
  for (const auto& run : runs) {
    if (!run.error.empty()) return fmt::format("'{}' cannot run: {}", run.scenario.name, run.error);
    for (const auto& st : run.stages) {
      const auto& m = st.metrics;
      if (m.completed == 0 && m.rejected + m.errors + m.timeouts > 0) {
        return fmt::format("'{}' at load {}: no request completed ({} rejected, {} failed)", run.scenario.name,
                           level_text(st.load), m.rejected, m.errors + m.timeouts);
      }
    }
  }
  return "";
}

}  // namespace servetwin
