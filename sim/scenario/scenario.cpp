#include "sim/scenario/scenario.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cmath>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/serving_sim.hpp"
#include "sim/core/limits.hpp"
#include "sim/metrics/rejection_tally.hpp"
#include "sim/core/parallel_for.hpp"
#include "sim/workload/arrivals.hpp"
#include "sim/workload/client_backoff.hpp"
#include "sim/workload/length_dist.hpp"
#include "sim/workload/request_source.hpp"
#include "sim/workload/trace.hpp"
#include "sim/workload/wave_gate.hpp"
#include "sim/workload/workload_choice.hpp"

namespace servetwin {
namespace {


// Throws ConfigError "<where> <problem>" when `v` is outside `limit`.
void check_limit(const std::string& where, double v, const Limit& limit) {
  const std::string problem = limit_violation(v, limit);
  if (!problem.empty()) throw ConfigError(fmt::format("{} {}: {}", where, v, problem));
}

std::unique_ptr<RequestSource> make_source(const Catalog& catalog, const Scenario& s, int stage) {
  WorkloadChoice choice{s.dataset_path, s.length_dists, s.workload};
  if (!choice.lengths && s.dataset_path.empty() && s.fixed_input_tokens > 0) {
    LengthDist in, out;
    in.mean = static_cast<double>(s.fixed_input_tokens);
    out.mean = static_cast<double>(std::max<std::int64_t>(1, s.fixed_output_tokens));
    choice.lengths.emplace(in, out);
  }
  return resolve_workload(catalog, choice, catalog.model(s.deployment.model).tokenizer).make_source(s.seed, stage);
}

// Drives one stage: feeds requests to the simulated server and collects records.
class StageDriver final : public SimListener {
 public:
  StageDriver(const Scenario& s, int stage, int stream, EventQueue& q) : s_(s), stage_(stage), q_(q) {
    end_ns_ = seconds_to_ns(s.duration_s);
    if (s.client_backoff) backoff_.emplace(ClientBackoffSpec{}, s.seed, static_cast<std::uint64_t>(stream));
  }
  void attach(ServingSim* sim, RequestSource* src) {
    sim_ = sim;
    src_ = src;
  }

  void start_closed(std::int64_t users) {
    if (s_.load.arrival == "waves") {
      waves_ = std::make_unique<WaveGate>(users);
      send_wave(0);
      return;
    }
    for (std::int64_t u = 0; u < users; ++u) send(src_->next_for_user(u), u, 0);
  }

  void start_open(const ArrivalSpec& spec) {
    arrivals_ = std::make_unique<ArrivalProcess>(stage_arrivals(spec, s_.seed));
    schedule_next_arrival(0);
  }

  // Replays rows in arrival order (stable for equal times), one pending arrival at a time: the event
  // heap then holds a handful of events instead of the whole trace, which keeps scheduling cheap.
  void start_trace(const std::vector<TraceRow>& rows) {
    records_.reserve(rows.size());
    trace_ = &rows;
    trace_order_.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) trace_order_[i] = i;
    std::stable_sort(trace_order_.begin(), trace_order_.end(),
                     [&rows](std::size_t a, std::size_t b) { return rows[a].arrived_at_s < rows[b].arrived_at_s; });
    schedule_trace_row(0);
  }

  void on_request_done(const RequestRecord& rec) override {
    if (rec.status != RequestStatus::kRejected || rejections_.count_and_keep()) records_.push_back(rec);
    --in_flight_;
    const TimeNs now = q_.now();
    if (waves_) {
      // A rejected or failed request ends its slot in the wave: the harness records the error and moves on. The
      // next wave leaves when the client has the slowest reply (finish_ns may include API-server time after the
      // engine released the request).
      wave_end_ns_ = std::max({wave_end_ns_, now, rec.finish_ns});
      if (waves_->request_ended()) {
        const TimeNs at = wave_end_ns_;
        q_.schedule(at, [this, at] {
          if (may_send(at)) send_wave(at);
        }, EventPriority::kLoadDriver);
      }
    } else if (rec.user_id >= 0 && may_send(now)) {
      const TimeNs at = next_send_ns(rec, now);
      if (at < end_ns_) send(src_->next_for_user(rec.user_id), rec.user_id, at);
    }
    if (!backlog_.empty() && (s_.load.max_in_flight == 0 || in_flight_ < s_.load.max_in_flight)) {
      const RequestShape shape = backlog_.front();
      backlog_.pop_front();
      send(shape, -1, now);
    }
  }

  std::vector<RequestRecord> take_records() { return std::move(records_); }
  [[nodiscard]] const RejectionTally& rejections() const { return rejections_; }
  [[nodiscard]] nlohmann::json client_backoff_json() const { return backoff_ ? backoff_->to_json() : nlohmann::json(); }

 private:
  // When a closed-loop user sends its next request: at once; after a rejection, kRejectRetryNs later
  // or, with Scenario::client_backoff, after the live runner's backoff (the simulated engines send
  // no Retry-After, so it is the exponential wait).
  TimeNs next_send_ns(const RequestRecord& rec, TimeNs now) {
    const bool rejected = rec.status == RequestStatus::kRejected;
    if (!backoff_) return rejected ? now + kRejectRetryNs : now;
    if (!rejected) {
      backoff_->on_served(rec.user_id);
      return now;
    }
    return now + backoff_->on_refused(rec.user_id, -1);
  }

  [[nodiscard]] bool may_send(TimeNs now) const {
    return now < end_ns_ && (s_.max_requests == 0 || sent_ < s_.max_requests);
  }

  // Stops a stage that would hold more requests than its memory share (records kept for the
  // metrics, requests in flight and arrivals waiting for a client slot).
  void check_stage_size() const {
    if (s_.max_stage_requests <= 0) return;
    const auto held = static_cast<std::int64_t>(records_.size() + backlog_.size()) + in_flight_;
    if (held >= s_.max_stage_requests) {
      throw ConfigError(fmt::format(
          "stage {} of '{}' would hold more than {} requests, its share of --max-memory; shorten --duration, "
          "lower --rate/--concurrency, set --requests or raise --max-memory",
          stage_, s_.name, s_.max_stage_requests));
    }
  }

  void send(const RequestShape& shape, std::int64_t user, TimeNs at) {
    check_stage_size();
    RequestInput in;
    in.id = next_id_++;
    in.user_id = user;
    in.stage = stage_;
    in.input_tokens = shape.input_tokens;
    in.output_tokens = shape.output_tokens;
    // llm-load-test sets min_new_tokens = max_new_tokens so outputs have exactly the dataset length.
    in.max_new_tokens = shape.output_tokens;
    in.min_new_tokens = shape.output_tokens;
    in.prefix_group = shape.prefix_group;
    in.shared_prefix_tokens = shape.shared_prefix_tokens;
    ++sent_;
    ++in_flight_;
    sim_->submit(in, at);
  }

  // One request per user, all at `at`; the next wave waits until every one of them has ended.
  void send_wave(TimeNs at) {
    std::int64_t sent = 0;
    for (std::int64_t u = 0; u < waves_->wave_size() && may_send(at); ++u, ++sent) send(src_->next_for_user(u), u, at);
    if (sent > 0) waves_->wave_sent(sent);
  }

  void schedule_trace_row(std::size_t k) {
    if (k >= trace_order_.size()) return;
    const TraceRow& r = (*trace_)[trace_order_[k]];
    q_.schedule(std::max(q_.now(), seconds_to_ns(r.arrived_at_s)), [this, k] {
      const TraceRow& row = (*trace_)[trace_order_[k]];
      send(RequestShape{row.input_tokens, row.output_tokens, -1, 0, -1}, -1, q_.now());
      schedule_trace_row(k + 1);
    }, EventPriority::kLoadDriver);
  }

  void schedule_next_arrival(TimeNs at) {
    q_.schedule(at, [this] {
      const TimeNs now = q_.now();
      if (!may_send(now)) return;
      const RequestShape shape = src_->next_open();
      if (s_.load.max_in_flight > 0 && in_flight_ >= s_.load.max_in_flight) {
        check_stage_size();
        backlog_.push_back(shape);  // the client holds it until a slot frees
      } else {
        send(shape, -1, now);
      }
      schedule_next_arrival(now + arrivals_->next_gap_ns());
    }, EventPriority::kLoadDriver);
  }

  const Scenario& s_;
  int stage_;
  EventQueue& q_;
  ServingSim* sim_ = nullptr;
  RequestSource* src_ = nullptr;
  std::unique_ptr<ArrivalProcess> arrivals_;
  std::unique_ptr<WaveGate> waves_;  // closed loop in synchronised waves (load.arrival "waves")
  TimeNs wave_end_ns_ = 0;           // when the client has the last reply of the current wave
  std::deque<RequestShape> backlog_;
  std::vector<RequestRecord> records_;
  RejectionTally rejections_;
  std::optional<ClientBackoff> backoff_;
  const std::vector<TraceRow>* trace_ = nullptr;  // trace replay: the rows (owned by run_stage)
  std::vector<std::size_t> trace_order_;          // their indices in arrival order
  TimeNs end_ns_ = 0;
  std::uint64_t next_id_ = 0;
  std::int64_t sent_ = 0;
  std::int64_t in_flight_ = 0;
};

nlohmann::json cost_json(const Catalog& catalog, const Scenario& s, double tok_s) {
  nlohmann::json j = nlohmann::json::object();
  if (s.deployment.instance.empty()) {
    j["usd_per_hour"] = nullptr;
    j["note"] = "no instance given: no price";
    return j;
  }
  const InstanceSpec& inst = catalog.instance(s.deployment.instance);
  j["instance"] = inst.name;
  if (!inst.on_demand.has_price) {
    j["usd_per_hour"] = nullptr;
    j["note"] = "no on-demand price in the catalog";
    return j;
  }
  j["usd_per_hour"] = inst.on_demand.usd_per_hour;
  j["price_date"] = inst.on_demand.date;
  if (tok_s > 0) {
    j["minutes_per_1m_output_tokens"] = 1e6 / tok_s / 60.0;
    j["usd_per_1m_output_tokens"] = inst.on_demand.usd_per_hour * 1e6 / (tok_s * 3600.0);
  } else {
    j["minutes_per_1m_output_tokens"] = nullptr;
    j["usd_per_1m_output_tokens"] = nullptr;
  }
  return j;
}

}  // namespace

Scenario resolve_scenario(const Catalog& catalog, Scenario s) {
  s.deployment = resolve_deployment(catalog, s.deployment);
  if (s.trace_path.empty() && s.dataset_path.empty() && s.fixed_input_tokens <= 0 && !s.length_dists) {
    s.workload = catalog.workload(s.workload).name;
  }
  // A trace replay runs to its last completion whatever the duration (validate sets 1e9 s); flags and
  // scenario files bound --duration / duration_s where they are read.
  const bool replay = !s.trace_path.empty() || !s.trace_rows.empty();
  if (!replay) check_limit("duration_s (--duration)", s.duration_s, limits::kDurationS);
  check_limit("requests (--requests)", static_cast<double>(s.max_requests), limits::kRequests);
  check_limit("load.max_in_flight (--max-in-flight)", static_cast<double>(s.load.max_in_flight), limits::kMaxInFlight);
  if (!s.trace_path.empty() || !s.trace_rows.empty()) {
    s.load.type = "trace";
    s.load.levels = {0};
  }
  if (s.load.levels.empty()) throw ConfigError("no load levels: give --concurrency LIST or --rate LIST");
  for (const double v : s.load.levels) {
    if (s.load.type == "closed") check_limit("--concurrency", v, limits::kConcurrency);
    if (s.load.type == "open") check_limit("--rate", v, limits::kRatePerS);
  }
  if (s.load.type == "open") {
    if (s.load.arrival == "waves") {
      throw ConfigError("--arrival waves is a closed loop (waves of N requests, N = the users): give --concurrency N, "
                        "not --rate");
    }
    parse_arrival(s.load.arrival);
  }
  if (s.length_dists) {
    validate_length_dist(s.length_dists->first, "input lengths");
    validate_length_dist(s.length_dists->second, "output lengths");
  }
  if (s.name.empty()) {
    s.name = fmt::format("{} on {} x{} TP{} ({})", s.deployment.model,
                         s.deployment.instance.empty() ? s.deployment.gpu : s.deployment.instance,
                         s.deployment.num_gpus, s.deployment.tp, s.deployment.engine);
  }
  return s;
}

nlohmann::json scenario_to_json(const Scenario& s) {
  nlohmann::json j;
  j["name"] = s.name;
  j["deployment"] = to_json(s.deployment);
  j["workload"] = s.dataset_path.empty() && s.trace_path.empty() ? nlohmann::json(s.workload) : nlohmann::json(nullptr);
  if (s.fixed_input_tokens > 0) {
    j["workload"] = {{"kind", "fixed"}, {"input_tokens", s.fixed_input_tokens}, {"output_tokens", s.fixed_output_tokens}};
  }
  if (s.length_dists) {
    j["workload"] = {{"kind", s.synthetic_lengths ? "synthetic" : "scaled"},
                     {"input", length_dist_json(s.length_dists->first)},
                     {"output", length_dist_json(s.length_dists->second)}};
  }
  j["dataset_path"] = s.dataset_path;
  j["trace_path"] = s.trace_path;
  if (!s.trace_rows.empty()) j["trace_rows"] = s.trace_rows.size();
  j["load"] = {{"type", s.load.type}, {"levels", s.load.levels}, {"arrival", s.load.arrival},
               {"max_in_flight", s.load.max_in_flight}};
  j["duration_s"] = s.duration_s;
  j["max_requests"] = s.max_requests;
  if (s.window_from_records) j["window"] = "first arrival to last completion";
  j["seed"] = s.seed;
  if (s.client_backoff) j["client_backoff"] = true;  // only when on: default outputs stay byte-identical
  return j;
}

StageResult run_stage(const Catalog& catalog, const Scenario& s, int stage_index, bool keep_records,
                      const ServingSimFactory& make_sim) {
  StageResult out;
  EventQueue q;
  const double level = s.load.levels.at(static_cast<std::size_t>(stage_index));
  StageDriver driver(s, stage_index, stage_stream_id(level), q);
  auto sim = make_sim ? make_sim(q, &driver) : make_serving_sim(catalog, s.deployment, q, &driver);
  std::unique_ptr<RequestSource> src;
  std::vector<TraceRow> trace;
  if (s.load.type == "trace") {
    trace = s.trace_rows.empty() ? load_trace_csv(s.trace_path) : s.trace_rows;
  } else {
    src = make_source(catalog, s, stage_stream_id(level));
  }
  driver.attach(sim.get(), src.get());
  TimeNs window_start = 0, window_end = seconds_to_ns(s.duration_s);
  if (s.load.type == "closed") {
    out.load = {{"type", "closed"}, {"concurrency", static_cast<std::int64_t>(level)}};
    if (s.load.arrival == "waves") out.load["arrival"] = "waves";
    driver.start_closed(static_cast<std::int64_t>(level));
  } else if (s.load.type == "open") {
    ArrivalSpec spec = parse_arrival(s.load.arrival);
    spec.rate_per_s = level;
    out.load = {{"type", "open"}, {"rate_per_s", level}, {"arrival", s.load.arrival}};
    driver.start_open(spec);
  } else {
    out.load = {{"type", "trace"}, {"trace", s.trace_path}, {"requests", trace.size()}};
    driver.start_trace(trace);
  }
  // Run to completion: users stop sending at the end of the window; in-flight requests drain.
  while (q.step()) {
  }
  out.events = q.executed();
  out.records = driver.take_records();
  std::sort(out.records.begin(), out.records.end(),
            [](const RequestRecord& a, const RequestRecord& b) { return a.request_id < b.request_id; });
  if (s.load.type == "trace" || s.window_from_records) {
    // A replayed trace or a request-count run is measured from the first arrival to the last completion.
    window_start = out.records.empty() ? 0 : out.records.front().arrival_ns;
    window_end = window_start + 1;
    for (const auto& r : out.records) window_end = std::max(window_end, r.finish_ns + 1);
  }
  out.metrics = compute_stage_metrics(out.records, stage_index, window_start, window_end);
  driver.rejections().add_dropped_to(out.metrics);
  out.rejections = driver.rejections().to_json(out.metrics.window_s);
  out.client_backoff = driver.client_backoff_json();
  out.engine_stats = sim->stats();
  out.cost = cost_json(catalog, s, out.metrics.throughput_output_tok_s);
  out.load_shape = load_shape_of(out.records);
  if (!keep_records) std::vector<RequestRecord>().swap(out.records);  // clear() would keep the capacity
  return out;
}

std::vector<ScenarioRun> run_scenarios(const Catalog& catalog, const std::vector<Scenario>& scenarios, int jobs,
                                       bool keep_records, bool progress) {
  std::vector<ScenarioRun> runs(scenarios.size());
  std::vector<std::pair<std::size_t, std::size_t>> work;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    runs[i].scenario = scenarios[i];
    runs[i].resolved_config = scenario_to_json(scenarios[i]);
    runs[i].stages.resize(scenarios[i].load.levels.size());
    for (std::size_t k = 0; k < scenarios[i].load.levels.size(); ++k) work.emplace_back(i, k);
  }
  std::atomic<std::size_t> done{0};
  std::mutex error_mutex;
  std::exception_ptr fatal;
  auto run_one = [&](std::size_t w) {
    const auto [i, k] = work[w];
    try {
      runs[i].stages[k] = run_stage(catalog, scenarios[i], static_cast<int>(k), keep_records);
    } catch (const DoesNotFitError& e) {
      const std::lock_guard<std::mutex> lock(error_mutex);
      runs[i].error = e.what();
    } catch (...) {
      const std::lock_guard<std::mutex> lock(error_mutex);
      if (!fatal) fatal = std::current_exception();
    }
    ++done;
  };
  const auto t0 = std::chrono::steady_clock::now();
  std::thread reporter;
  bool finished = false;
  std::mutex finished_mutex;
  std::condition_variable finished_cv;  // wakes the reporter at once when the work is done
  if (progress) {
    reporter = std::thread([&] {
      bool shown = false;
      std::unique_lock<std::mutex> lock(finished_mutex);
      while (!finished_cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return finished; })) {
        const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (el > 1.0) {
          std::cerr << fmt::format("\rsimulating: {}/{} stages, {:.1f} s", done.load(), work.size(), el) << std::flush;
          shown = true;
        }
      }
      if (shown) std::cerr << "\n";
    });
  }
  parallel_for(work.size(), jobs, run_one);
  {
    const std::lock_guard<std::mutex> lock(finished_mutex);
    finished = true;
  }
  finished_cv.notify_all();
  if (reporter.joinable()) reporter.join();
  if (fatal) std::rethrow_exception(fatal);
  for (auto& r : runs) {
    if (!r.error.empty()) r.stages.clear();
  }
  return runs;
}

}  // namespace servetwin
