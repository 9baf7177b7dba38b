#include "calibrate/probe/probe_fit.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>

#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {
namespace {

using nlohmann::json;

// Decode rows in which other requests' prefill (at the fitted per-token cost) is more than this share of
// the inter-token time are not fitted (chosen before any sweep was scored: a row that is mostly prefill
// measures the prefill, and its decode residue is a small difference of two large numbers).
constexpr double kMaxPrefillShare = 0.25;

struct DecodeSample {
  double itl_s = 0, batch = 0, context = 0;
};

struct Req {
  double in = 0, out = 0, arrival = 0, first = 0, finish = 0;
  bool ok = false, warmup = false;
};

std::vector<Req> requests_of(const json& phase) {
  std::vector<Req> out;
  for (const auto& r : phase.at("requests")) {
    Req q;
    q.in = r.at("input_tokens").get<double>();
    q.out = r.at("output_tokens").get<double>();
    q.arrival = r.at("arrival_ns").get<double>() / 1e9;
    q.first = r.at("first_token_ns").get<double>() / 1e9;
    q.finish = r.at("finish_ns").get<double>() / 1e9;
    q.ok = r.at("status").get<std::string>() == "ok" && q.first >= q.arrival && q.finish >= q.first;
    q.warmup = r.at("warmup").get<bool>();
    out.push_back(q);
  }
  return out;
}

// Time-averaged number of requests decoding (first token .. finish) over [t0, t1], and their mean context.
void overlap(const std::vector<Req>& all, double t0, double t1, double& batch, double& context) {
  double busy = 0, ctx = 0;
  for (const auto& r : all) {
    if (!r.ok) continue;
    const double a = std::max(t0, r.first), b = std::min(t1, r.finish);
    if (b <= a) continue;
    busy += b - a;
    ctx += (b - a) * (r.in + r.out / 2);
  }
  const double span = std::max(1e-9, t1 - t0);
  batch = busy / span;
  context = ctx / span;
}

// The most requests decoding (first token .. finish) at any request's first token.
int most_decoding_together(const std::vector<Req>& reqs) {
  int most = 0;
  for (const auto& r : reqs) {
    if (!r.ok) continue;
    int n = 0;
    for (const auto& o : reqs)
      if (o.ok && o.first <= r.first && o.finish > r.first) ++n;
    most = std::max(most, n);
  }
  return most;
}

LinearFit fit_rows(std::vector<ProbeRow>& rows, std::size_t k) {
  std::vector<std::vector<double>> x;
  std::vector<double> y, w;
  for (const auto& r : rows) {
    x.emplace_back(r.x, r.x + k);
    y.push_back(r.measured_s);
    w.push_back(1.0 / std::max(1e-9, r.measured_s));
  }
  LinearFit f;
  f.coef = nnls_small(x, y, w);
  std::vector<double> apes;
  for (auto& r : rows) {
    r.predicted_s = 0;
    for (std::size_t i = 0; i < k; ++i) r.predicted_s += f.coef[i] * r.x[i];
    apes.push_back(std::abs(r.predicted_s - r.measured_s) / r.measured_s);
  }
  f.n = rows.size();
  if (!apes.empty()) {
    std::sort(apes.begin(), apes.end());
    f.median_ape = apes[apes.size() / 2];
    f.max_ape = apes.back();
  }
  return f;
}

// Lone requests (phases prefill, length-check): TTFT vs prompt tokens.
void fit_lone_ttft(const std::vector<std::pair<std::string, std::vector<Req>>>& stages, const std::string& where,
                   ProbeFit& f) {
  for (const auto& [name, reqs] : stages) {
    if (name != "prefill" && name != "length-check") continue;
    for (const auto& r : reqs) {
      if (!r.ok || r.warmup) continue;
      ProbeRow row{name, 1, {1.0, r.in, r.in * r.in, 0}, r.first - r.arrival, 0};
      f.ttft_rows.push_back(row);
    }
  }
  if (f.ttft_rows.size() < 3) throw ConfigError(where + ": fewer than 3 ok lone requests (phases prefill, length-check) to fit TTFT");
  f.ttft = fit_rows(f.ttft_rows, 3);
  f.prompt_min = std::numeric_limits<std::int64_t>::max();
  for (const auto& r : f.ttft_rows) {
    f.prompt_min = std::min(f.prompt_min, static_cast<std::int64_t>(r.x[1]));
    f.prompt_max = std::max(f.prompt_max, static_cast<std::int64_t>(r.x[1]));
  }
}

// A prompt's prefill work as the lone-request TTFT fit prices it, less the fixed part a: b·p + c·p²
// (the causal-attention term is most of a long prompt's prefill on a CPU).
double prefill_cost_s(const LinearFit& ttft, double prompt_tokens) {
  return ttft.coef[1] * prompt_tokens + ttft.coef[2] * prompt_tokens * prompt_tokens;
}

// One decode stage's requests: each request's inter-token time over its decode span with the prefill
// of requests whose first token came inside the span taken out (prefill_cost_s), and the time
// averages of the batch and context beside it. Rows mostly made of prefill are counted, not kept.
std::vector<DecodeSample> decode_samples(const std::vector<Req>& reqs, const LinearFit& ttft, int& prefill_dominated) {
  std::vector<DecodeSample> out;
  for (const auto& r : reqs) {
    if (!r.ok || r.warmup || r.out < 2) continue;
    const double steps = r.out - 1;
    const double itl = (r.finish - r.first) / steps;
    double batch = 0, context = 0, prefill_s = 0;
    overlap(reqs, r.first, r.finish, batch, context);
    // Users of one round get their first tokens from the same step, a client-side jitter apart: only a
    // first token half a step or more after this one's is another request's prefill inside the span.
    for (const auto& o : reqs)
      if (o.ok && o.first >= r.first + 0.5 * itl && o.first <= r.finish) prefill_s += prefill_cost_s(ttft, o.in);
    const double prefill_share_s = prefill_s / steps;
    if (prefill_share_s > kMaxPrefillShare * itl) {
      ++prefill_dominated;
      continue;
    }
    out.push_back({itl - prefill_share_s, batch, context});
  }
  return out;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The samples of one decode stage (phase and concurrency), pooled over its probe.json entries: one entry
// per stage in a probe from before the interleaving, one per round (with "pass") since. Each entry's
// times are relative to its own runner, so the samples are taken per entry and only then pooled.
// Probes merged by probe_merge.hpp keep their samples apart (`by_probe`, the entries' "probe").
struct StageSamples {
  std::string phase;
  int concurrency = 0;
  std::map<int, std::vector<DecodeSample>> by_probe;
};

std::vector<StageSamples> pooled_decode_stages(const std::vector<std::pair<std::string, std::vector<Req>>>& stages,
                                               const json& phases, const LinearFit& ttft, int& prefill_dominated) {
  std::vector<StageSamples> out;
  for (std::size_t si = 0; si < stages.size(); ++si) {
    const std::string& name = stages[si].first;
    if (name != "decode" && name != "decode-context") continue;
    const int c = phases[si].value("concurrency", 0);
    auto it = std::find_if(out.begin(), out.end(), [&](const StageSamples& s) { return s.phase == name && s.concurrency == c; });
    if (it == out.end()) it = out.insert(out.end(), StageSamples{name, c, {}});
    const std::vector<DecodeSample> samples = decode_samples(stages[si].second, ttft, prefill_dominated);
    auto& pooled = it->by_probe[phases[si].value("probe", 0)];
    pooled.insert(pooled.end(), samples.begin(), samples.end());
  }
  return out;
}

// Decode: one row per stage (the medians of its requests), so that every stage (batch x context)
// weighs the same whatever its request count, and one slow request moves no coefficient. Merged probes
// (a sweep bracketed in time): the mean of each probe's medians, the server's mean speed over the span;
// the median of their pooled requests would pick one probe's speed when the two differ.
void fit_decode(const std::vector<std::pair<std::string, std::vector<Req>>>& stages, const json& phases,
                const std::string& where, ProbeFit& f) {
  f.batch_min = f.context_min = std::numeric_limits<double>::infinity();
  for (const auto& [name, reqs] : stages)
    if (name == "burst") {
      f.admission_limit = most_decoding_together(reqs);
      f.burst_requests = static_cast<int>(reqs.size());
    }
  int prefill_dominated = 0;
  for (const StageSamples& st : pooled_decode_stages(stages, phases, f.ttft, prefill_dominated)) {
    ProbeRow row{st.phase, st.concurrency, {1.0, 0, 0, 0}, 0, 0};
    row.requests = 0;
    int probes = 0;
    for (const auto& [probe, samples] : st.by_probe) {
      if (samples.empty()) continue;
      std::vector<double> itl, batch, context;
      for (const auto& d : samples) {
        itl.push_back(d.itl_s);
        batch.push_back(d.batch);
        context.push_back(d.context);
      }
      row.x[1] += median_of(batch);
      row.x[2] += median_of(context);
      row.measured_s += median_of(itl);
      row.requests += static_cast<int>(samples.size());
      ++probes;
    }
    if (probes == 0) continue;
    for (double* v : {&row.x[1], &row.x[2], &row.measured_s}) *v /= probes;
    if (row.measured_s <= 0) continue;
    f.decode_rows.push_back(row);
    f.batch_min = std::min(f.batch_min, row.x[1]);
    f.batch_max = std::max(f.batch_max, row.x[1]);
    f.context_min = std::min(f.context_min, row.x[2]);
    f.context_max = std::max(f.context_max, row.x[2]);
  }
  if (prefill_dominated > 0)
    f.notes.push_back(fmt::format("{} decode requests left out: other requests' prefill was over {:.0f}% of their inter-token time",
                                  prefill_dominated, 100 * kMaxPrefillShare));
  if (f.decode_rows.size() < 2 || f.batch_max - f.batch_min < 0.5)
    throw ConfigError(where + ": the decode phases need ok requests at 2 or more batch sizes to fit the step cost");
  f.decode = fit_rows(f.decode_rows, 3);
}

}  // namespace

std::vector<double> nnls_small(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
                               const std::vector<double>& w) {
  const std::size_t k = x.empty() ? 0 : x.front().size();
  std::vector<double> best(k, 0.0);
  double best_err = std::numeric_limits<double>::infinity();
  for (unsigned mask = 1; mask < (1U << k); ++mask) {
    std::vector<std::size_t> cols;
    for (std::size_t j = 0; j < k; ++j)
      if ((mask >> j) & 1U) cols.push_back(j);
    Eigen::MatrixXd a(static_cast<Eigen::Index>(x.size()), static_cast<Eigen::Index>(cols.size()));
    Eigen::VectorXd b(static_cast<Eigen::Index>(x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) {
      for (std::size_t c = 0; c < cols.size(); ++c)
        a(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(c)) = w[i] * x[i][cols[c]];
      b(static_cast<Eigen::Index>(i)) = w[i] * y[i];
    }
    const Eigen::VectorXd s = a.colPivHouseholderQr().solve(b);
    if ((s.array() < 0).any() || !s.allFinite()) continue;
    const double err = (a * s - b).squaredNorm();
    if (err < best_err) {
      best_err = err;
      best.assign(k, 0.0);
      for (std::size_t c = 0; c < cols.size(); ++c) best[cols[c]] = s(static_cast<Eigen::Index>(c));
    }
  }
  return best;
}

bool is_probe_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return false;
  const json j = json::parse(in, nullptr, false);
  return j.is_object() && j.contains("schema") && j["schema"] == "servetwin.probe.v1";
}

ProbeFit fit_probe(const json& probe, const std::string& where) {
  if (!probe.is_object() || probe.value("schema", "") != "servetwin.probe.v1")
    throw ConfigError(where + ": schema: expected \"servetwin.probe.v1\" (a file written by servetwin calibrate probe)");
  if (!probe.contains("phases") || !probe["phases"].is_array()) throw ConfigError(where + ": phases: missing or not a list");
  ProbeFit f;
  f.server_engine = probe.value("server_engine", json::object());
  f.server_cache_config = probe.value("server_cache_config", json::object());
  f.probe_complete = probe.value("complete", false);
  if (!f.probe_complete) f.notes.push_back("probe incomplete: " + probe.value("partial_reason", std::string("?")));
  if (probe.contains("merged_from"))
    f.notes.push_back(fmt::format("fitted on {} probes of one endpoint: {}", probe["merged_from"].size(),
                                  fmt::join(probe["merged_from"].get<std::vector<std::string>>(), ", ")));
  std::vector<std::pair<std::string, std::vector<Req>>> stages;
  try {
    for (const auto& p : probe["phases"]) stages.emplace_back(p.at("phase").get<std::string>(), requests_of(p));
  } catch (const json::exception& e) {
    throw ConfigError(where + ": phases[].requests: " + e.what());
  }
  fit_lone_ttft(stages, where, f);
  fit_decode(stages, probe["phases"], where, f);
  f.step_spread = fit_step_spread(probe["phases"]);
  if (!f.step_spread.note.empty()) f.notes.push_back(f.step_spread.note);
  return f;
}

}  // namespace servetwin::calibrate
