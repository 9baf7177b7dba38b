#include "sim/validate/row_load.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <regex>

#include "sim/catalog/catalog.hpp"
#include "sim/core/limits.hpp"
#include "sim/core/path_check.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/validate/distserve_records.hpp"
#include "sim/validate/row_lengths.hpp"
#include "sim/workload/arrivals.hpp"
#include "sim/workload/distserve_trace.hpp"
#include "sim/workload/length_dist.hpp"

namespace servetwin {
namespace {

// A closed loop without duration_s sends at least this many requests per user, so the ramp-up (every user's first
// request starts together) and the drain (the last requests finish with fewer users left) are about a tenth of the
// run, not most of it.
constexpr std::int64_t kDefaultRequestsPerUser = 10;

// What a row states about its load (for the whole deployment).
struct RowLoad {
  std::optional<double> in_mean, out_mean, load_value, duration;
  std::string workload;
  std::optional<std::int64_t> stated_requests;  // "..., 30000 requests" in input_tokens_desc
  RowLengths lengths;
  bool waves = false;  // closed loop in synchronised waves
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

// DistServe's launcher (LLMServe/DistServe evaluation/2-benchmark-serving/2-start-api-server.py) passed
// --max-paddings 524288 --max-num-batched-tokens 65536 from bde5424 (2024-04-20) until 8f13114 (2024-04-22,
// 16:35 UTC) set 256 and 16384; the records were committed on 2024-04-23 (20a1633). The baseline's v0.1.7 and
// v0.2.0 branches (interestingLSY/vllm distserve-baseline-vllm, -v0.2.0) carry DistServe's patches only from
// 2024-04-25; the v0.2.3 branch has them from 2024-04-13 (timing 04-17, per-step token timestamps committed
// 04-24). So the records came from the v0.2.3 build, and it pads prompt batches.
constexpr std::int64_t kEarlyLauncherMaxPaddings = 524288;
constexpr std::int64_t kEarlyLauncherMaxBatchedTokens = 65536;

// A DistServe vLLM preset that pads prompt batches (v0.2.2-0.3.3) runs a row with the early launcher's
// limits when the row's own per-request records show a prefill step with more pad tokens than the
// preset's max_paddings allows: that run was made before the launcher lowered them (above;
// distserve_records.hpp). No records, or no prefill step holding two prompts, leaves the preset as it is.
void apply_prefill_batch_fingerprint(const EngineSpec& spec, const std::filesystem::path& records,
                                     DeploymentConfig& d, RowMapping& m) {
  // The engine's own reading of the two settings (preset, then the row's overrides).
  EngineSettings settings(spec, d.engine_set);
  if (!settings.flag("prefill_padding", false) || !check_path(records).exists) return;
  const std::int64_t max_paddings = settings.integer("max_paddings", 256, 0, 100000000);
  const PrefillBatchFingerprint fp = fingerprint_prefill_batches(read_distserve_records(records));
  const bool rule_broken = fp.max_pad_tokens > max_paddings;
  if (rule_broken) {
    d.engine_set["max_paddings"] = std::to_string(kEarlyLauncherMaxPaddings);
    d.engine_set["max_num_batched_tokens"] = std::to_string(kEarlyLauncherMaxBatchedTokens);
  }
  m.engine_evidence = fmt::format(
      "{}: {} prefill steps with more than one prompt, at most {} pad tokens ({} max_paddings {}): {}",
      records.filename().string(), fp.batches, fp.max_pad_tokens, rule_broken ? ">" : "<=", max_paddings,
      rule_broken ? fmt::format("ran with the launcher's earlier limits (DistServe bde5424-8f13114), max_paddings={}, "
                                "max_num_batched_tokens={}",
                                kEarlyLauncherMaxPaddings, kEarlyLauncherMaxBatchedTokens)
                  : std::string("consistent with the preset"));
}

// The source's own per-request file, when it published one and it sits where the policy says; the whole trace
// goes to the deployment (several replicas: through the router).
void replay(const ReplayConvention& rc, const std::filesystem::path& trace, const std::filesystem::path& data_dir,
            const std::string& run, const EngineSpec& spec, Scenario& s, RowMapping& m) {
  s.trace_rows = load_distserve_workload(trace);
  if (!rc.records.empty()) {
    apply_prefill_batch_fingerprint(spec, data_dir / replace_run(rc.records, run), s.deployment, m);
  }
  run_trace_to_end(s);
}

// What a load note already says, followed by "; " (the lengths come first).
std::string prefix(const RowMapping& m) { return m.load_note.empty() ? "" : m.load_note + "; "; }

// A run without duration_s: `n` requests, measured from the first arrival to the last completion.
void run_request_count(std::int64_t n, Scenario& s) {
  s.max_requests = n;
  s.duration_s = limits::kDurationS.hi;  // the request count ends the run long before
  s.window_from_records = true;
}

// Requests at the given arrival times with lengths drawn from the row's length shape (fixed lengths draw
// nothing: the same requests as before shapes existed).
void shaped_trace(const RowLengths& l, const std::vector<TimeNs>& arrivals, Scenario& s) {
  Rng rng = make_rng(s.seed, "validate-lengths", 0);
  for (const TimeNs t : arrivals) {
    const std::int64_t in = draw_length(l.input, rng);
    const std::int64_t out = draw_length(l.output, rng);
    s.trace_rows.push_back(TraceRow{ns_to_seconds(t), in, out});
  }
  run_trace_to_end(s);
}

// "" when `n` requests fit one simulated run, else the reason naming the fields that make it.
std::string check_request_count(double n, const std::string& fields) {
  if (n <= limits::kTraceRows.hi) return "";
  return fmt::format("{} = {:.0f} requests, more than one run holds ({}; sim/core/limits.hpp)", fields, n,
                     describe_limit(limits::kTraceRows));
}

// `lengths_why`: why the row's lengths are unknown ("" when known); a replay needs none.
std::string poisson_load(const ValidationPolicy& policy, const ValidationRow& row, const EngineSpec& spec,
                         const std::filesystem::path& data_dir, const RowLoad& l, const std::string& lengths_why,
                         Scenario& s, RowMapping& m) {
  if (!l.load_value || !(*l.load_value > 0)) {
    return "load_value: a poisson_rate row needs its request rate (requests/s, a number > 0)";
  }
  const SourcePolicy* src = policy.source_of(row);
  if (src != nullptr && src->replay && l.workload == src->replay->workload) {
    const std::string& id = row.get("source_id");
    const std::string run = id.substr(id.rfind(':') + 1);
    const auto trace = data_dir / replace_run(src->replay->trace, run);
    if (check_path(trace).exists) {
      replay(*src->replay, trace, data_dir, run, spec, s, m);
      m.load_note.clear();  // the source's own requests: no lengths were chosen
      return "";
    }
    if (!lengths_why.empty()) {
      return src->name + " replay file not found (and no mean lengths to fall back on): " +
             trace.lexically_normal().string();
    }
  }
  if (!lengths_why.empty()) return lengths_why;
  if (l.lengths.kind == RowLengths::Kind::kCatalog) {
    s.workload = l.lengths.workload;
    s.load.type = "open";
    s.load.levels = {*l.load_value};
    s.load.arrival = "poisson";
    if (l.duration) {
      s.duration_s = *l.duration;
    } else {
      run_request_count(l.stated_requests.value_or(kDefaultRequests), s);
      m.load_note = fmt::format("{}no duration_s: {} Poisson arrivals{}", prefix(m), s.max_requests,
                                l.stated_requests ? " (the count in input_tokens_desc)" : " (default request count)");
    }
    return "";
  }
  // Poisson arrivals with the row's lengths. A row whose description states its request count ("..., 100
  // requests") gets exactly that many (its duration_s may include the drain after the last arrival, as
  // DistServe's does); otherwise arrivals span duration_s; without either, the default request count.
  ArrivalProcess arrivals(ArrivalSpec{"poisson", *l.load_value, 1}, make_rng(s.seed, "validate-arrivals", 0));
  const std::int64_t count = l.stated_requests ? std::max<std::int64_t>(1, *l.stated_requests)
                             : l.duration      ? -1
                                               : kDefaultRequests;
  const double expected = count >= 0 ? static_cast<double>(count) : *l.duration * *l.load_value;
  if (auto why = check_request_count(expected, count >= 0 ? "the request count" : "load_value x duration_s");
      !why.empty()) {
    return why;
  }
  const TimeNs end = l.duration ? seconds_to_ns(*l.duration) : 0;
  std::vector<TimeNs> times;
  for (TimeNs t = 0; count >= 0 ? static_cast<std::int64_t>(times.size()) < count : t < end;
       t += arrivals.next_gap_ns()) {
    times.push_back(t);
  }
  shaped_trace(l.lengths, times, s);
  if (!l.duration && !l.stated_requests) {
    m.load_note = fmt::format("{}no duration_s: {} Poisson arrivals (default request count), measured from the first "
                              "arrival to the last completion",
                              prefix(m), kDefaultRequests);
  }
  return "";
}

std::string closed_load(const RowLoad& l, Scenario& s, RowMapping& m) {
  if (!l.load_value || *l.load_value < 1 || std::floor(*l.load_value) != *l.load_value) {
    return "load_value: a closed_concurrency row needs its number of users (an integer >= 1)";
  }
  if (l.lengths.kind == RowLengths::Kind::kCatalog) {
    s.workload = l.lengths.workload;
  } else if (l.lengths.fixed()) {
    s.fixed_input_tokens = std::llround(l.lengths.input.mean);
    s.fixed_output_tokens = std::max<std::int64_t>(1, std::llround(l.lengths.output.mean));
  } else {
    s.length_dists = std::make_pair(l.lengths.input, l.lengths.output);
  }
  s.load.type = "closed";
  s.load.levels = {*l.load_value};
  if (l.waves) s.load.arrival = "waves";
  if (l.duration) {
    s.duration_s = *l.duration;
    return "";
  }
  const auto users = static_cast<std::int64_t>(*l.load_value);
  const std::int64_t n = l.stated_requests.value_or(std::max(kDefaultRequests, kDefaultRequestsPerUser * users));
  if (auto why = check_request_count(static_cast<double>(n), "the request count"); !why.empty()) return why;
  run_request_count(n, s);
  m.load_note = fmt::format("{}no duration_s: the {} users send {} requests{}, measured from the first send to the "
                            "last completion",
                            prefix(m), users, n,
                            l.stated_requests ? " (the count in input_tokens_desc)"
                                              : " (default: max(1000, 10 x users))");
  return "";
}

std::string offline_load(const RowLoad& l, Scenario& s, RowMapping& m) {
  if (l.lengths.kind == RowLengths::Kind::kCatalog) {
    return "input_tokens_mean/output_tokens_mean: an offline row needs both (tokens, >= 1); its workload '" +
           l.workload + "' is a dataset or shared-prefix spec, not a length shape";
  }
  // The request count is in the description ("..., 30000 requests"); without it, the default count.
  const std::int64_t n = std::max<std::int64_t>(1, l.stated_requests.value_or(kDefaultRequests));
  if (auto why = check_request_count(static_cast<double>(n), "the request count"); !why.empty()) return why;
  if (!l.stated_requests) {
    m.load_note = fmt::format("{}offline without a request count: {} requests (default), all queued at t=0", prefix(m), n);
  }
  shaped_trace(l.lengths, std::vector<TimeNs>(static_cast<std::size_t>(n), 0), s);
  return "";
}

std::string static_batch_load(const EngineSpec& spec, const RowLoad& l, int replicas, Scenario& s) {
  if (!l.in_mean || !l.out_mean) {
    return "input_tokens_mean/output_tokens_mean: a static_batch row needs both (tokens; every request of the batch "
           "has them)";
  }
  if (!l.load_value || *l.load_value < 1 || std::floor(*l.load_value) != *l.load_value) {
    return "load_value: a static_batch row needs its batch size (an integer >= 1)";
  }
  const auto bs = static_cast<std::int64_t>(*l.load_value);
  if (bs % replicas != 0) {
    return fmt::format("load_value: batch {} does not split evenly over {} data-parallel replicas (num_gpus / tp)", bs,
                       replicas);
  }
  if (spec.engine == "vllm") {
    DeploymentConfig& d = s.deployment;
    const std::int64_t per_replica = bs / replicas;
    d.engine_set["max_num_seqs"] = std::to_string(per_replica);
    // The measured system ran these lengths (e.g. Splitwise's 8,192-token Llama-2 prompts), so the
    // context limit is the row's own length, not the model's configured maximum.
    d.engine_set["max_model_len"] = std::to_string(std::llround(*l.in_mean) + std::llround(*l.out_mean) + 1);
    // The activation reserve of a static batch is its own prefill pass.
    d.engine_set["max_num_batched_tokens"] =
        std::to_string(std::max<std::int64_t>(1, per_replica * std::llround(*l.in_mean)));
  }
  // Other engines (TGIS, TGI) get the batch as a burst at t=0 and batch it by their own rules.
  s.trace_rows = burst_trace(bs, std::llround(*l.in_mean), std::llround(*l.out_mean));
  run_trace_to_end(s);
  return "";
}

// A closed loop whose notes or description say the harness sends in waves ("in waves of 32", "wave-synchronised").
bool notes_say_waves(const ValidationRow& row) {
  static const std::regex re("\\bwaves?\\b|wave-synchroni[sz]ed|synchronous batches", std::regex::icase);
  return std::regex_search(row.get("notes"), re) || std::regex_search(row.get("input_tokens_desc"), re);
}

}  // namespace

std::string load_type_for_presets(const std::string& load_type) {
  return load_type == "closed_waves" ? "closed_concurrency" : load_type;
}

std::string set_row_load(const Catalog& catalog, const ValidationPolicy& policy, const ValidationRow& row,
                         const EngineSpec& spec, const std::filesystem::path& data_dir, const std::string& load_type,
                         Scenario& s, RowMapping& m) {
  RowLoad l{row.number("input_tokens_mean"), row.number("output_tokens_mean"), row.number("load_value"),
            row.number("duration_s"), row.get("workload"), stated_request_count(row), {}, false};
  if (l.duration && !(*l.duration > 0)) return "duration_s: must be > 0 seconds (or empty: a default run length)";
  if (load_type == "static_batch") return static_batch_load(spec, l, m.replicas, s);
  std::string type = load_type;
  if (type == "poisson_rate" && l.load_value && std::isinf(*l.load_value)) {
    // vLLM bench's --request-rate inf: every request is sent at t=0, an offline burst.
    type = "offline";
    m.load_note = "request rate inf: all requests at t=0 (offline)";
  }
  std::string lengths_why = choose_row_lengths(catalog, row, l.lengths);
  // A Poisson row may replay its source's own trace, which needs no lengths (poisson_load decides).
  if (!lengths_why.empty() && type != "poisson_rate") return lengths_why;
  if (!l.lengths.how.empty()) m.load_note += (m.load_note.empty() ? "" : "; ") + l.lengths.how;
  std::string why;
  if (type == "poisson_rate") {
    why = poisson_load(policy, row, spec, data_dir, l, lengths_why, s, m);
  } else if (type == "closed_concurrency" || type == "closed_waves") {
    l.waves = type == "closed_waves" || notes_say_waves(row);
    why = closed_load(l, s, m);
  } else if (type == "offline") {
    why = offline_load(l, s, m);
  } else {
    return fmt::format("load_type '{}' is not modelled; allowed: poisson_rate, closed_concurrency, closed_waves, "
                       "offline, static_batch (and the spellings in configs/validation/row_mapping.yaml)",
                       row.get("load_type"));
  }
  auto add_note = [&m](const std::string& text) { m.load_note += (m.load_note.empty() ? "" : "; ") + text; };
  if (why.empty() && l.waves) add_note("closed loop in waves (each wave waits for its slowest request)");
  if (why.empty() && m.replicas > 1) {
    add_note(fmt::format("{} replicas behind a round-robin balancer, simulated together", m.replicas));
  }
  return why;
}

}  // namespace servetwin
