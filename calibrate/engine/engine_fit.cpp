#include "calibrate/engine/engine_fit.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

#include "calibrate/fit/gemm_fit.hpp"
#include "calibrate/published/csv_table.hpp"
#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {

std::vector<RequestRecord> read_request_csv(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  // Columns by name (the header is request_csv_header(); the CLI checks it verbatim).
  const auto c_scn = t.column("scenario"), c_id = t.column("request_id"), c_stage = t.column("stage"),
             c_user = t.column("user_id"), c_in = t.column("input_tokens"), c_out = t.column("output_tokens"),
             c_cached = t.column("cached_tokens"), c_arr = t.column("arrival_ns"), c_ack = t.column("ack_ns"),
             c_first = t.column("first_token_ns"), c_fin = t.column("finish_ns"), c_status = t.column("status"),
             c_stop = t.column("stop_reason"), c_pre = t.column("preemptions"), c_err = t.column("error");
  std::vector<RequestRecord> out;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    RequestRecord rec;
    auto i64 = [&](std::size_t col) { return static_cast<std::int64_t>(t.number(r, col)); };
    rec.scenario = static_cast<int>(i64(c_scn));
    rec.request_id = static_cast<std::uint64_t>(i64(c_id));
    rec.stage = static_cast<int>(i64(c_stage));
    rec.user_id = i64(c_user);
    rec.input_tokens = i64(c_in);
    rec.output_tokens = i64(c_out);
    rec.cached_tokens = i64(c_cached);
    rec.arrival_ns = i64(c_arr);
    rec.ack_ns = i64(c_ack);
    rec.first_token_ns = i64(c_first);
    rec.finish_ns = i64(c_fin);
    try {
      rec.status = request_status_from_string(t.text(r, c_status));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(path.string() + ":" + std::to_string(r + 2) + ": " + e.what());
    }
    rec.stop_reason = t.text(r, c_stop);
    rec.preemptions = i64(c_pre);
    rec.error = t.text(r, c_err);
    out.push_back(rec);
  }
  return out;
}

MessageLog read_message_log(const std::filesystem::path& path) {
  const CsvTable t = CsvTable::read(path);
  const auto c_id = t.column("request_id"), c_seq = t.column("seq"), c_t = t.column("t_ns"),
             c_gen = t.column("generated_tokens");
  MessageLog out;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    const std::array<double, 4> v = {t.number(r, c_id), t.number(r, c_seq), t.number(r, c_t), t.number(r, c_gen)};
    if (std::any_of(v.begin(), v.end(), [](double x) { return std::isnan(x); }))
      throw ConfigError(fmt::format("{}:{}: an empty cell (request_id, seq, t_ns and generated_tokens are all needed)",
                                    path.string(), r + 2));
    out[static_cast<std::uint64_t>(v[0])].push_back(
        {static_cast<std::int64_t>(v[1]), static_cast<std::int64_t>(v[2]), static_cast<std::int64_t>(v[3])});
  }
  for (auto& [id, msgs] : out)
    std::sort(msgs.begin(), msgs.end(), [](const StreamMessage& a, const StreamMessage& b) { return a.seq < b.seq; });
  return out;
}

MessageTimes read_message_csv(const std::filesystem::path& path) {
  MessageTimes out;
  for (const auto& [id, msgs] : read_message_log(path)) {
    // Message 1 of a TGIS/Caikit stream carries only the input token count (generated 0); each later
    // message carries one more token. Keep the messages of tokens 2.., i.e. the decode steps' ends.
    for (const StreamMessage& m : msgs)
      if (m.generated >= 2) out[id].push_back(m.t_ns);
  }
  for (auto& [id, v] : out) std::sort(v.begin(), v.end());
  return out;
}

EngineFit fit_engine(const std::vector<RequestRecord>& records, int scenario, const MessageTimes* messages,
                     const std::vector<RequestRecord>* context) {
  std::vector<const RequestRecord*> ok;  // every completed request that occupied the engine
  std::set<const RequestRecord*> fitted;  // those that give rows (not the context ones)
  auto usable = [&](const RequestRecord& r) {
    return r.scenario == scenario && r.status == RequestStatus::kOk && r.first_token_ns >= r.arrival_ns &&
           r.finish_ns >= r.first_token_ns && r.arrival_ns >= 0;
  };
  for (const auto& r : records)
    if (usable(r)) ok.push_back(&r), fitted.insert(&r);
  if (ok.size() < 4) throw ConfigError("engine fit: fewer than 4 completed requests in the records");
  if (context != nullptr)
    for (const auto& r : *context)
      if (usable(r)) ok.push_back(&r);
  std::sort(ok.begin(), ok.end(), [](auto* a, auto* b) { return a->arrival_ns < b->arrival_ns; });

  // Clock tolerance: records measured by a client (the live runner) see the tokens of one engine step
  // a few microseconds to a few ms apart. A quarter of the shortest mean decode interval is far below
  // one step and far above that jitter; exact (simulated) records are unaffected by it.
  double min_interval = 0;
  for (const auto* r : ok)
    if (r->output_tokens >= 2) {
      const double iv = static_cast<double>(r->finish_ns - r->first_token_ns) / static_cast<double>(r->output_tokens - 1);
      if (iv > 0 && (min_interval == 0 || iv < min_interval)) min_interval = iv;
    }
  const auto tol = static_cast<std::int64_t>(0.25 * min_interval);

  // Prefill steps are visible as first-token times; requests admitted together share one (within tol).
  struct PrefillStep {
    std::int64_t t = 0;  // latest first-token time of the step
    double seqs = 0, tokens = 0;
  };
  std::vector<std::pair<std::int64_t, const RequestRecord*>> firsts;
  firsts.reserve(ok.size());
  for (const auto* r : ok) firsts.emplace_back(r->first_token_ns, r);
  std::sort(firsts.begin(), firsts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<PrefillStep> prefills;
  std::map<const RequestRecord*, std::size_t> step_of;
  for (const auto& [t, r] : firsts) {
    if (prefills.empty() || t - prefills.back().t > tol) prefills.push_back({t, 0, 0});
    auto& p = prefills.back();
    p.t = t;
    p.seqs += 1;
    p.tokens += static_cast<double>(r->input_tokens - r->cached_tokens);
    step_of[r] = prefills.size() - 1;
  }

  std::vector<std::array<double, 4>> rows;  // coefficients of (per_request, step, per_seq, prefill_per_token)
  std::vector<double> y;
  std::vector<bool> is_ttft;
  EngineFit fit;
  std::int64_t busy_until = -1;
  for (const auto* r : ok) {
    const PrefillStep& own = prefills[step_of.at(r)];
    // Idle arrival: no earlier request still in the engine, so TTFT has no queueing in it: the fixed
    // per-request cost and one prefill step (per-step, per-sequence and per-token costs of that step).
    const bool idle = r->arrival_ns > busy_until;
    busy_until = std::max(busy_until, r->finish_ns);
    if (fitted.count(r) == 0) continue;
    if (idle) {
      rows.push_back({1.0, 1.0, own.seqs, own.tokens});
      y.push_back(static_cast<double>(r->first_token_ns - r->arrival_ns));
      is_ttft.push_back(true);
      ++fit.idle_arrivals;
    }
    if (r->output_tokens < 2) continue;
    const double span = static_cast<double>(r->finish_ns - r->first_token_ns);
    if (span <= 0) continue;
    const double steps = static_cast<double>(r->output_tokens - 1);
    // Prefill steps of other requests inside this request's decode span (each with its sequences).
    double n_prefill = 0, prefill_seqs = 0, prefill_tokens = 0;
    for (const auto& p : prefills)
      if (p.t > r->first_token_ns + tol && p.t < r->finish_ns - tol) {
        n_prefill += 1;
        prefill_seqs += p.seqs;
        prefill_tokens += p.tokens;
      }
    // Sequences summed over this request's decode steps. With stream message times (live runner), each
    // decode step's end is a message of this request, and the batch of that step is every request whose
    // decode span contains it. Without them: the time-weighted overlap of decode spans.
    double batch_sum = 0;
    const std::vector<std::int64_t>* msgs = nullptr;
    if (messages != nullptr) {
      auto it = messages->find(r->request_id);
      if (it != messages->end() && it->second.size() == static_cast<std::size_t>(r->output_tokens - 1)) msgs = &it->second;
    }
    if (msgs != nullptr) {
      for (const auto* o : ok) {
        if (o->output_tokens < 2 || o->finish_ns < r->first_token_ns || o->first_token_ns > r->finish_ns) continue;
        const auto lo = std::lower_bound(msgs->begin(), msgs->end(), o->first_token_ns + tol + 1);
        const auto hi = std::upper_bound(msgs->begin(), msgs->end(), o->finish_ns + tol);
        if (hi > lo) batch_sum += static_cast<double>(hi - lo);
      }
      ++fit.message_timed;
    } else {
      double overlap_ns = 0;
      for (const auto* o : ok) {
        const auto lo = std::max(o->first_token_ns, r->first_token_ns);
        const auto hi = std::min(o->finish_ns, r->finish_ns);
        if (hi > lo && o->output_tokens >= 2) overlap_ns += static_cast<double>(hi - lo);
      }
      batch_sum = overlap_ns / span * steps;
    }
    rows.push_back({0.0, steps + n_prefill, batch_sum + prefill_seqs, prefill_tokens});
    y.push_back(span);
    is_ttft.push_back(false);
    ++fit.requests_used;
  }
  if (fit.idle_arrivals < 2)
    throw ConfigError("engine fit: needs at least 2 requests that arrived at an idle engine (run a low-load stage)");

  // Relative-error least squares with non-negativity by active-set elimination (4 unknowns).
  const auto n = static_cast<Eigen::Index>(rows.size());
  std::vector<bool> active{true, true, true, true};
  Eigen::Vector4d x = Eigen::Vector4d::Zero();
  for (int pass = 0; pass < 4; ++pass) {
    std::vector<int> cols;
    for (int j = 0; j < 4; ++j)
      if (active[static_cast<std::size_t>(j)]) cols.push_back(j);
    Eigen::MatrixXd a(n, static_cast<Eigen::Index>(cols.size()));
    Eigen::VectorXd b(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      const double w = 1.0 / y[static_cast<std::size_t>(i)];
      for (std::size_t k = 0; k < cols.size(); ++k)
        a(i, static_cast<Eigen::Index>(k)) = rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(cols[k])] * w;
      b(i) = 1.0;
    }
    const Eigen::VectorXd s = a.colPivHouseholderQr().solve(b);
    x.setZero();
    bool negative = false;
    for (std::size_t k = 0; k < cols.size(); ++k) {
      x(cols[k]) = s(static_cast<Eigen::Index>(k));
      if (s(static_cast<Eigen::Index>(k)) < 0) active[static_cast<std::size_t>(cols[k])] = false, negative = true;
    }
    if (!negative) break;
    x = x.cwiseMax(0.0);
  }
  fit.per_request_ns = x(0);
  fit.step_ns = x(1);
  fit.per_seq_step_ns = x(2);
  fit.prefill_ns_per_token = x(3);
  std::vector<double> ape_t, ape_d;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    double pred = 0;
    for (int j = 0; j < 4; ++j) pred += rows[i][static_cast<std::size_t>(j)] * x(j);
    (is_ttft[i] ? ape_t : ape_d).push_back(std::abs(pred - y[i]) / y[i]);
  }
  fit.ttft_median_ape = summarize_errors(ape_t).median_ape;
  fit.decode_median_ape = summarize_errors(ape_d).median_ape;
  return fit;
}

std::string engine_fit_yaml(const EngineFit& f, const std::string& source) {
  auto param = [&](const char* key, double v) {
    return fmt::format("{}: {{value: {:.6g}, provenance: fitted, source: \"{}\"}}\n", key, v, source);
  };
  std::string y = "# Written by `servetwin calibrate engine` (calibrate/engine/engine_fit.cpp).\n";
  y += "kind: engine_overheads\n";
  y += param("per_request_ns", f.per_request_ns);
  y += param("step_ns", f.step_ns);
  y += param("per_seq_step_ns", f.per_seq_step_ns);
  y += param("prefill_ns_per_token", f.prefill_ns_per_token);
  y += fmt::format("fit: {{requests_used: {}, message_timed: {}, idle_arrivals: {}, ttft_median_ape: {:.4g}, decode_median_ape: {:.4g}}}\n",
                   f.requests_used, f.message_timed, f.idle_arrivals, f.ttft_median_ape, f.decode_median_ape);
  return y;
}

}  // namespace servetwin::calibrate
