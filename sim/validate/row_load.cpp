#include "sim/validate/row_load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <regex>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/validate/distserve_records.hpp"
#include "sim/workload/arrivals.hpp"
#include "sim/workload/distserve_trace.hpp"

namespace servetwin {
namespace {

// What a row states about its load, per replica.
struct RowLoad {
  std::optional<double> in_mean, out_mean, load_value, duration;
  std::string workload;
  std::optional<std::int64_t> stated_requests;  // "..., 30000 requests" in input_tokens_desc
};

// Fixed-length requests: `n` at t=0 (offline / static batch).
std::vector<TraceRow> burst_trace(std::int64_t n, std::int64_t in, std::int64_t out) {
  std::vector<TraceRow> rows(static_cast<std::size_t>(n));
  for (auto& r : rows) r = TraceRow{0.0, in, out};
  return rows;
}

void run_trace_to_end(Scenario& s) {
  s.load.type = "trace";
  s.load.levels = {0};
  s.duration_s = 1e9;  // a replay or burst runs to its last completion
}

std::string replace_run(std::string pattern, const std::string& run) {
  const std::string key = "{run}";
  for (auto pos = pattern.find(key); pos != std::string::npos; pos = pattern.find(key)) pattern.replace(pos, key.size(), run);
  return pattern;
}

// A DistServe vLLM preset that pads prompt batches (v0.2.2-0.3.3) runs a row without the rule when
// the row's own per-request records show a prefill step with more pad tokens than the rule allows:
// that run came from the v0.1.7 branch head (distserve_records.hpp). No records, or no
// prefill step holding two prompts, leaves the preset as it is.
void apply_prefill_batch_fingerprint(const EngineSpec& spec, const std::filesystem::path& records,
                                     DeploymentConfig& d, RowMapping& m) {
  // The engine's own reading of the two settings (preset, then the row's overrides).
  EngineSettings settings(spec, d.engine_set);
  if (!settings.flag("prefill_padding", false) || !std::filesystem::exists(records)) return;
  const std::int64_t max_paddings = settings.integer("max_paddings", 256, 0, 100000000);
  const PrefillBatchFingerprint fp = fingerprint_prefill_batches(read_distserve_records(records));
  const bool rule_broken = fp.max_pad_tokens > max_paddings;
  if (rule_broken) d.engine_set["prefill_padding"] = "false";
  m.engine_evidence = fmt::format(
      "{}: {} prefill steps with more than one prompt, at most {} pad tokens ({} max_paddings {}): {}",
      records.filename().string(), fp.batches, fp.max_pad_tokens, rule_broken ? ">" : "<=", max_paddings,
      rule_broken ? "ran without the padded-batch rule (v0.1.7), prefill_padding=false" : "consistent with the preset");
}

// The source's own per-request file, when it published one and it sits where the policy says; every k-th
// request goes to the simulated replica (round-robin).
void replay(const ReplayConvention& rc, const std::filesystem::path& trace, const std::filesystem::path& data_dir,
            const std::string& run, const EngineSpec& spec, Scenario& s, RowMapping& m) {
  s.trace_rows = load_distserve_workload(trace);
  if (!rc.records.empty()) {
    apply_prefill_batch_fingerprint(spec, data_dir / replace_run(rc.records, run), s.deployment, m);
  }
  if (m.replicas > 1) {
    std::vector<TraceRow> mine;
    for (std::size_t i = 0; i < s.trace_rows.size(); i += static_cast<std::size_t>(m.replicas)) {
      mine.push_back(s.trace_rows[i]);
    }
    s.trace_rows = std::move(mine);
  }
  run_trace_to_end(s);
}

std::string poisson_load(const Catalog& catalog, const ValidationPolicy& policy, const ValidationRow& row,
                         const EngineSpec& spec, const std::filesystem::path& data_dir, const RowLoad& l, Scenario& s,
                         RowMapping& m) {
  if (!l.load_value) return "poisson_rate row without load_value";
  const SourcePolicy* src = policy.source_of(row);
  if (src != nullptr && src->replay && l.workload == src->replay->workload) {
    const std::string& id = row.get("source_id");
    const std::string run = id.substr(id.rfind(':') + 1);
    const auto trace = data_dir / replace_run(src->replay->trace, run);
    if (std::filesystem::exists(trace)) {
      replay(*src->replay, trace, data_dir, run, spec, s, m);
      return "";
    }
    if (!(l.in_mean && l.out_mean && l.duration)) {
      return src->name + " replay file not found (and no mean lengths/duration to fall back on): " +
             trace.lexically_normal().string();
    }
  }
  if (!l.workload.empty() && catalog.has_workload(l.workload) && catalog.workload(l.workload).kind != "dataset") {
    s.workload = l.workload;
    s.load.type = "open";
    s.load.levels = {*l.load_value};
    s.load.arrival = "poisson";
    if (!l.duration) return "poisson_rate row without duration_s";
    s.duration_s = *l.duration;
    return "";
  }
  if (!(l.in_mean && l.out_mean && l.duration)) {
    return fmt::format("workload '{}' is not in the catalog and the row lacks mean lengths/duration", l.workload);
  }
  // An unseen workload: Poisson arrivals with the row's mean lengths, fixed. A row whose description states its
  // request count ("..., 100 requests") gets exactly that many (its duration_s may include the drain after the
  // last arrival, as DistServe's does); otherwise arrivals span duration_s.
  ArrivalProcess arrivals(ArrivalSpec{"poisson", *l.load_value, 1}, make_rng(s.seed, "validate-arrivals", 0));
  TimeNs t = 0;
  const TimeNs end = seconds_to_ns(*l.duration);
  const std::int64_t count = l.stated_requests ? std::max<std::int64_t>(1, *l.stated_requests / m.replicas) : -1;
  while (count >= 0 ? static_cast<std::int64_t>(s.trace_rows.size()) < count : t < end) {
    s.trace_rows.push_back(
        TraceRow{ns_to_seconds(t), std::llround(*l.in_mean), std::max<std::int64_t>(1, std::llround(*l.out_mean))});
    t += arrivals.next_gap_ns();
  }
  run_trace_to_end(s);
  return "";
}

std::string closed_load(const Catalog& catalog, const RowLoad& l, Scenario& s) {
  if (!l.load_value || !l.duration) return "closed_concurrency row without load_value or duration_s";
  if (!l.workload.empty() && catalog.has_workload(l.workload)) {
    s.workload = l.workload;
  } else if (l.in_mean && l.out_mean && *l.in_mean >= 1 && *l.out_mean >= 1) {
    // Not a catalog workload: every request gets the row's mean lengths (as the poisson rows do).
    s.fixed_input_tokens = std::llround(*l.in_mean);
    s.fixed_output_tokens = std::llround(*l.out_mean);
  } else {
    return fmt::format("closed loop needs a catalog workload or input/output token means; '{}' is not a catalog "
                       "workload",
                       l.workload);
  }
  s.load.type = "closed";
  s.load.levels = {*l.load_value};
  s.duration_s = *l.duration;
  return "";
}

std::string offline_load(const RowLoad& l, int replicas, Scenario& s) {
  if (!l.in_mean || !l.out_mean) return "offline row without input/output token means";
  // The request count is in the description ("..., 30000 requests"); without it, 1000.
  const std::int64_t n = std::max<std::int64_t>(1, l.stated_requests.value_or(1000) / replicas);
  s.trace_rows = burst_trace(n, std::llround(*l.in_mean), std::llround(*l.out_mean));
  run_trace_to_end(s);
  return "";
}

std::string static_batch_load(const EngineSpec& spec, const RowLoad& l, Scenario& s) {
  if (!l.in_mean || !l.out_mean || !l.load_value) return "static_batch row without lengths or batch size";
  const auto bs = static_cast<std::int64_t>(*l.load_value);
  if (spec.engine == "vllm") {
    DeploymentConfig& d = s.deployment;
    d.engine_set["max_num_seqs"] = std::to_string(bs);
    // The measured system ran these lengths (e.g. Splitwise's 8,192-token Llama-2 prompts), so the
    // context limit is the row's own length, not the model's configured maximum.
    d.engine_set["max_model_len"] = std::to_string(std::llround(*l.in_mean) + std::llround(*l.out_mean) + 1);
    // The activation reserve of a static batch is its own prefill pass.
    d.engine_set["max_num_batched_tokens"] = std::to_string(std::max<std::int64_t>(1, bs * std::llround(*l.in_mean)));
  }
  // Other engines (TGIS, TGI) get the batch as a burst at t=0 and batch it by their own rules.
  s.trace_rows = burst_trace(bs, std::llround(*l.in_mean), std::llround(*l.out_mean));
  run_trace_to_end(s);
  return "";
}

// The request count a row's description states ("..., 30000 requests"), if any.
std::optional<std::int64_t> stated_request_count(const ValidationRow& row) {
  std::smatch m;
  const std::string& desc = row.get("input_tokens_desc");
  if (!std::regex_search(desc, m, std::regex("([0-9]+) requests"))) return std::nullopt;
  return std::stoll(m[1].str());
}

}  // namespace

std::string set_row_load(const Catalog& catalog, const ValidationPolicy& policy, const ValidationRow& row,
                         const EngineSpec& spec, const std::filesystem::path& data_dir, const std::string& load_type,
                         Scenario& s, RowMapping& m) {
  RowLoad l{row.number("input_tokens_mean"), row.number("output_tokens_mean"), row.number("load_value"),
            row.number("duration_s"), row.get("workload"), stated_request_count(row)};
  if (l.load_value && m.replicas > 1) {
    // Per replica. Users, requests and batches must split evenly (else the replicas differ).
    const double k = static_cast<double>(m.replicas);
    if (load_type != "poisson_rate" && std::fmod(*l.load_value, k) != 0) {
      return fmt::format("load_value {} does not split evenly over {} data-parallel replicas", *l.load_value,
                         m.replicas);
    }
    *l.load_value /= k;
  }
  if (load_type == "poisson_rate") return poisson_load(catalog, policy, row, spec, data_dir, l, s, m);
  if (load_type == "closed_concurrency") return closed_load(catalog, l, s);
  if (load_type == "offline") return offline_load(l, m.replicas, s);
  if (load_type == "static_batch") return static_batch_load(spec, l, s);
  return fmt::format("load_type '{}' is not modelled", load_type);
}

}  // namespace servetwin
