#include "live/load/runner.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "live/load/error_rate_breaker.hpp"
#include "live/load/open_loop_schedule.hpp"
#include "live/load/prompt_token_check.hpp"
#include "sim/workload/arrivals.hpp"
#include "sim/metrics/stage_metrics.hpp"
#include "sim/metrics/summary.hpp"

namespace servetwin::live {

using Clock = std::chrono::steady_clock;

// How often in-flight requests are checked for stalls (a 60 s default timeout needs no finer grain).
constexpr TimeNs kStallScanNs = 250 * kNsPerMs;
// How long cancelled requests get to report their end before the runner stops waiting (the
// issue-20 bar: exit within 5 s of a second signal).
constexpr TimeNs kCancelGraceNs = 4 * kNsPerS;
// How often the control loop writes the completed records out: each write is a flushed file write
// per output, and in a closed loop the loop wakes on every completion (1,000 a second at 1,000
// streams), so the records go out in batches, at most this much later.
constexpr TimeNs kFlushEveryNs = 20 * kNsPerMs;

struct StageState {
  int index = 0;
  bool closed = true;
  int users = 0;
  bool sending = false;
  TimeNs start_ns = 0;
  TimeNs window_start_ns = -1;  // set when the first measured request is sent
  TimeNs window_end_ns = -1;    // duration mode: window_start + duration
  std::int64_t warmup_sent = 0;
  std::int64_t measured_sent = 0;
  std::int64_t in_flight = 0;
  std::int64_t completed = 0, errors = 0;
  std::int64_t window_tokens = 0;
  int consecutive_unavailable = 0;
  TimeNs unavailable_since_ns = -1;  // when the current run of unavailable results began
  // The stage's requests (predict's source for the same seed and level): closed loop, each user's
  // sequence (next_for_user); open loop, one sequence (next_open). Warm-up requests draw from their
  // own source, so the measured requests are predict's whatever the warm-up.
  std::unique_ptr<RequestSource> source;
  std::unique_ptr<RequestSource> warmup_source;
};

// The runner core: users, arrivals, timing, records, summaries, signals. It knows no protocol:
// requests go out through `transport`, which reports each request's messages and end on its
// polling threads (RequestHost).
struct LoadRunner::Impl final : RequestHost {
  Impl(LoadConfig c, PromptSupply p) : cfg(std::move(c)), prompts(std::move(p)) {}
  LoadConfig cfg;
  PromptSupply prompts;
  Clock::time_point t0;
  std::chrono::system_clock::time_point t0_wall;
  std::unique_ptr<Transport> transport;
  // How synthetic prompts hit the server's token count (prompt_tokens.hpp); replaced, under `mu`,
  // when a first response teaches the offset. Null for a dataset's prompts.
  std::shared_ptr<const PromptTokenPlan> token_plan;
  void learn_prompt_tokens(const LiveRecord& rec);  // under `mu`

  std::mutex mu;
  std::condition_variable cv;  // signalled when a request completes
  StageState st;
  std::set<InFlight*> live;
  std::uint64_t next_id = 0;
  std::vector<LiveRecord> records;
  std::int64_t warmup_total = 0;
  bool abort = false;
  std::string abort_reason;
  std::ofstream csv, warmup_csv, msg_csv, schedule_csv;
  // Completed records wait here (guarded by `mu`) until the control thread writes them, at most
  // one control-loop tick (20 ms) later: the file writes and flushes stay off the polling threads,
  // which also receive every other stream's messages and timestamp them.
  std::string csv_pending, warmup_pending, msg_pending, schedule_pending;
  // Closed loop: users whose request completed, waiting for the control thread to send their next
  // one (guarded by `mu`; the completion wakes it). Creating a call is the most expensive thing a
  // completion would do on a polling thread.
  std::vector<std::int64_t> launch_pending;
  // Closed loop: users backing off after a refusal, (when to send, user); guarded by `mu`.
  std::vector<std::pair<TimeNs, std::int64_t>> delayed_launch;
  std::optional<ClientBackoff> backoff;      // this stage's (closed loop with cfg.client_backoff)
  std::optional<ErrorRateBreaker> breaker;   // this stage's; guarded by `mu`
  void flush_records();  // call without `mu` held, from the control thread only

  [[nodiscard]] TimeNs now_ns() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
  }
  // Sends the user's next request (user -1: the open loop's next arrival, due at `scheduled_ns`,
  // a warm-up request when `open_loop_warmup` says so). Call without `mu` held.
  void launch(std::int64_t user, TimeNs scheduled_ns = -1, std::optional<bool> open_loop_warmup = std::nullopt);
  void register_live(InFlight* c) override {
    std::lock_guard lk(mu);
    live.insert(c);
  }
  void complete(InFlight* c, LiveRecord rec, const CallOutcome& outcome) override;
  void cancel_all(const std::string& why);
  // Under `mu`: after a completion, the unavailable-server bound, and the user's next request
  // (now, or after its backoff).
  void note_unavailable(const CallOutcome& o, TimeNs t);
  void schedule_next(std::int64_t user, const CallOutcome& o, TimeNs t);
  // Under `mu`: moves the backed-off users whose wait is over into `users`.
  void take_due_launches(TimeNs now, std::vector<std::int64_t>& users);
  // Cancels requests that have had no message for cfg.stall_timeout_s (call without `mu`).
  void cancel_stalled(TimeNs now);

  // Stage control (run() calls them in order for each stage).
  void begin_stage(int s, StageWindow& w);
  bool control_stage(const std::atomic<bool>* stop, const std::atomic<bool>* cancel_now, const StageWindow& w,
                     int nstages, bool tty);  // true = interrupted
  void trip_breaker(TimeNs now);  // under `mu`: stops the run when the error-rate breaker trips
  void end_stage(StageWindow& w, bool& interrupted, std::int64_t warm_before, int nstages, bool tty);
  void open_outputs();
  nlohmann::json write_summary(LoadResult& result, const nlohmann::json& ready);
  void write_stage_formats(const StageWindow& w, const StageMetrics& m, const std::vector<LiveRecord>& all_records,
                           const std::string& name) const;

  // Request objects alive (see InFlight). Guarded by `objects_mu`; `objects_cv` signals zero.
  std::mutex objects_mu;
  std::condition_variable objects_cv;
  std::int64_t objects_alive = 0;
  void object_created() override {
    std::lock_guard lk(objects_mu);
    ++objects_alive;
  }
  void object_destroyed() override {
    // Notify under the lock: the waiter may destroy this Impl as soon as it can take the lock.
    std::lock_guard lk(objects_mu);
    if (--objects_alive == 0) objects_cv.notify_all();
  }
  // True when every request object is gone within `limit`.
  bool wait_objects_gone(std::chrono::milliseconds limit) {
    std::unique_lock lk(objects_mu);
    return objects_cv.wait_for(lk, limit, [this] { return objects_alive == 0; });
  }
  // When the stage being controlled stopped sending (set by control_stage, read by end_stage).
  TimeNs drain_since = -1;
};

int resolved_poll_threads(int requested) {
  if (requested > 0) return requested;
  const auto hw = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(hw / 2, 1, 4);
}

void LoadRunner::Impl::launch(std::int64_t user, TimeNs scheduled_ns, std::optional<bool> open_loop_warmup) {
  LiveRecord rec;
  RequestShape shape;
  std::shared_ptr<const PromptTokenPlan> plan;
  {
    std::lock_guard lk(mu);
    if (!st.sending || abort) return;
    plan = token_plan;
    const TimeNs t = now_ns();
    if (st.window_end_ns >= 0 && t >= st.window_end_ns) {
      st.sending = false;
      cv.notify_all();
      return;
    }
    const bool warm = open_loop_warmup ? *open_loop_warmup
                                       : (cfg.warmup_s > 0 && st.window_start_ns < 0 &&
                                          t < st.start_ns + seconds_to_ns(cfg.warmup_s)) ||
                                             (cfg.warmup_requests > 0 && st.warmup_sent < cfg.warmup_requests);
    if (warm) {
      ++st.warmup_sent;
    } else {
      if (cfg.requests > 0 && st.measured_sent >= cfg.requests) {
        st.sending = false;
        cv.notify_all();
        return;
      }
      if (st.window_start_ns < 0) {
        st.window_start_ns = (cfg.warmup_s > 0 && cfg.warmup_requests == 0) ? st.start_ns + seconds_to_ns(cfg.warmup_s)
                                                                            : t;
        if (cfg.duration_s > 0) st.window_end_ns = st.window_start_ns + seconds_to_ns(cfg.duration_s);
      }
      ++st.measured_sent;
    }
    RequestSource& source = warm ? *st.warmup_source : *st.source;
    shape = user < 0 ? source.next_open() : source.next_for_user(user);
    ++st.in_flight;
    rec.warmup = warm;
    rec.rec.request_id = next_id++;
    rec.rec.stage = st.index;
    rec.rec.user_id = user;
    rec.rec.arrival_ns = t;
    // The schedule as sent: open loop, the arrival as the arrival process placed it; closed loop, the send time.
    // sample_index: the dataset prompt (-1: synthetic), so `validate --live` can replay prompt reuse.
    fmt::format_to(std::back_inserter(schedule_pending), "{},{},{},{},{},{},{},{}\n", rec.rec.request_id, st.index,
                   user, warm ? 1 : 0, (scheduled_ns >= 0 ? scheduled_ns : t) - st.start_ns, shape.input_tokens,
                   shape.output_tokens, shape.sample_index);
  }
  const PromptSample e = plan ? prompts.prompt(shape, cfg.seed, rec.rec.request_id, *plan)
                              : prompts.prompt(shape, cfg.seed, rec.rec.request_id);
  rec.requested_input_tokens = e.input_tokens;
  if (plan && shape.sample_index < 0) rec.prompt_pieces = plan->pieces_for(shape.input_tokens);
  // One entry per stream message (ack + one per token): no reallocation on the read path.
  rec.messages.reserve(static_cast<std::size_t>(std::max<std::int64_t>(e.max_new_tokens, 0)) + 2);
  rec.input_id = e.id;
  transport->send(std::move(rec), user, e);
}

namespace {

// What cancel_stalled() writes as the cancel reason; complete() recognises it.
constexpr std::string_view kStallReason = "stall: ";

// The record's status and error from how its exchange ended.
void classify(LiveRecord& rec, const InFlight::EndState& end, const CallOutcome& o) {
  auto& r = rec.rec;
  if (!end.protocol_error.empty()) {
    r.status = RequestStatus::kError;
    r.error = "protocol: " + end.protocol_error;
  } else if (o.ok) {
    if (!end.final_seen) {
      r.status = RequestStatus::kError;
      r.error = "protocol: stream ended without a final message carrying stop_reason";
    } else if (r.stop_reason == "ERROR") {
      r.status = RequestStatus::kError;
      r.error = "server: stop_reason ERROR";
    } else {
      r.status = RequestStatus::kOk;
    }
  } else if (end.cancel_reason.rfind(kStallReason, 0) == 0) {
    // Cancelled by the runner because the server went silent: a timeout, in a class of its own.
    r.status = RequestStatus::kTimeout;
    r.error = end.cancel_reason;
    rec.status_name = "stall";
  } else {
    r.status = o.failure;
    r.error = o.error;
  }
}

// What the error-rate breaker counts as a failed request (error_rate_breaker.hpp says why).
bool breaker_error(const RequestRecord& r, const CallOutcome& o) {
  return (r.status == RequestStatus::kError || r.status == RequestStatus::kTimeout) && !o.server_unavailable;
}

}  // namespace

void LoadRunner::Impl::complete(InFlight* c, LiveRecord rec, const CallOutcome& o) {
  const TimeNs t_done = now_ns();
  const InFlight::EndState end = c->end_state();
  auto& r = rec.rec;
  r.output_tokens = end.last_cum;
  r.finish_ns = end.final_seen ? end.final_ns : t_done;
  rec.status_code = o.code;
  rec.status_message = o.message;
  rec.status_name = o.code_name;
  rec.token_count_method = o.token_count_method;
  classify(rec, end, o);
  const std::int64_t user = c->user_slot();
  const bool failed = breaker_error(r, o);
  // The record's lines are formatted before taking `mu`, which every completion and the control
  // thread share; under it they are only appended.
  const std::string request_line = request_csv_line(r) + '\n';
  std::string message_lines;
  if (!rec.warmup) {
    for (std::size_t i = 0; i < rec.messages.size(); ++i) {
      fmt::format_to(std::back_inserter(message_lines), "{},{},{},{}\n", r.request_id, i, rec.messages[i].first,
                     rec.messages[i].second);
    }
  }
  std::lock_guard lk(mu);
  live.erase(c);
  --st.in_flight;
  learn_prompt_tokens(rec);
  if (rec.warmup) {
    ++warmup_total;
    warmup_pending += request_line;
  } else {
    ++st.completed;
    if (r.status != RequestStatus::kOk) ++st.errors;
    if (r.status == RequestStatus::kOk && (st.window_end_ns < 0 || r.finish_ns < st.window_end_ns)) {
      st.window_tokens += r.output_tokens;
    }
    csv_pending += request_line;
    msg_pending += message_lines;
    records.push_back(std::move(rec));
  }
  if (breaker) breaker->record(t_done, failed);
  note_unavailable(o, t_done);
  const bool next = st.closed && st.sending && !abort;
  // Closed loop: this user's next request goes out as soon as the previous one completed (or
  // its backoff ends), sent by the control thread. Otherwise wake the control loop only when it
  // waits on a completion (drain finished, an open-loop slot freed, abort); it also polls the
  // clock every 20 ms.
  if (next) schedule_next(user, o, t_done);
  if (next || (!st.sending && st.in_flight == 0) || (!st.closed && cfg.max_in_flight > 0) || abort) {
    cv.notify_all();
  }
}

void LoadRunner::Impl::learn_prompt_tokens(const LiveRecord& rec) {
  if (!token_plan || token_plan->method == "tokenize" || rec.prompt_pieces < 0 || rec.rec.input_tokens <= 0) return;
  // The common case, a response that agrees with the learned offset, copies nothing.
  if (token_plan->method == "first-response" && rec.rec.input_tokens - rec.prompt_pieces == token_plan->offset_tokens) {
    return;
  }
  PromptTokenPlan next = *token_plan;
  if (learn_offset_from_response(next, rec.prompt_pieces, rec.rec.input_tokens)) {
    token_plan = std::make_shared<const PromptTokenPlan>(std::move(next));
  }
}

void LoadRunner::Impl::note_unavailable(const CallOutcome& o, TimeNs t) {
  if (!o.server_unavailable) {
    st.consecutive_unavailable = 0;
    st.unavailable_since_ns = -1;
    return;
  }
  if (st.consecutive_unavailable++ == 0) st.unavailable_since_ns = t;
  const int limit = cfg.abort_after_unavailable > 0 ? cfg.abort_after_unavailable
                                                   : std::max(8, 2 * std::max(st.users, 1));
  // A restarting server is retried (gRPC reconnects; users back off) for reconnect_timeout_s.
  const TimeNs outage_ns = t - st.unavailable_since_ns;
  if (st.consecutive_unavailable >= limit && outage_ns >= seconds_to_ns(cfg.reconnect_timeout_s) && !abort) {
    abort = true;
    abort_reason = fmt::format("server unavailable for {:.1f} s ({} consecutive {} results; last: {})",
                               ns_to_seconds(outage_ns), st.consecutive_unavailable, o.code_name, o.message);
    st.sending = false;
  }
}

void LoadRunner::Impl::schedule_next(std::int64_t user, const CallOutcome& o, TimeNs t) {
  if (backoff) {
    if (o.overload || o.server_unavailable) {
      delayed_launch.emplace_back(t + backoff->on_refused(user, o.overload ? o.retry_after_s : -1), user);
      return;
    }
    backoff->on_served(user);
  }
  launch_pending.push_back(user);
}

void LoadRunner::Impl::take_due_launches(TimeNs now, std::vector<std::int64_t>& users) {
  auto due = std::stable_partition(delayed_launch.begin(), delayed_launch.end(),
                                   [now](const auto& d) { return d.first > now; });
  for (auto it = due; it != delayed_launch.end(); ++it) users.push_back(it->second);
  delayed_launch.erase(due, delayed_launch.end());
}

void LoadRunner::Impl::cancel_stalled(TimeNs now) {
  const TimeNs stall_ns = seconds_to_ns(cfg.stall_timeout_s);
  std::vector<InFlight*> calls;
  {
    std::lock_guard lk(mu);
    for (auto* c : live) {
      if (now - c->last_activity_ns() > stall_ns) {
        c->ref();
        calls.push_back(c);
      }
    }
  }
  const std::string why = fmt::format("{}no message from the server for {} s (--stall-timeout)", kStallReason,
                                      cfg.stall_timeout_s);
  for (auto* c : calls) {
    if (c->cancel_reason().empty()) c->cancel(why);  // once per request
    c->unref();
  }
}

void LoadRunner::Impl::cancel_all(const std::string& why) {
  std::vector<InFlight*> calls;
  {
    std::lock_guard lk(mu);
    for (auto* c : live) {
      c->ref();
      calls.push_back(c);
    }
  }
  for (auto* c : calls) {
    c->cancel(why);
    c->unref();
  }
}

void LoadRunner::Impl::flush_records() {
  std::string c, w, m, sched;
  {
    std::lock_guard lk(mu);
    c.swap(csv_pending);
    w.swap(warmup_pending);
    m.swap(msg_pending);
    sched.swap(schedule_pending);
  }
  if (!sched.empty() && schedule_csv) schedule_csv << sched << std::flush;
  if (!c.empty() && csv) csv << c << std::flush;
  if (!w.empty() && warmup_csv) warmup_csv << w << std::flush;
  if (!m.empty() && msg_csv) msg_csv << m << std::flush;
}

LoadRunner::LoadRunner(LoadConfig cfg, PromptSupply prompts) : impl_(new Impl(std::move(cfg), std::move(prompts))) {
  disable_abseil_deadlock_detection();
}

LoadRunner::~LoadRunner() {
  // Every request finishes (run() cancels stragglers), so this wait is normally microseconds: the
  // tail of the last finish. If a request object is somehow still alive after 30 s, leak the runner
  // (and its polling threads) rather than free connections and queues that a request still uses.
  if (!impl_->wait_objects_gone(std::chrono::seconds(30))) {
    std::cerr << "servetwin load: warning: requests still alive 30 s after the run; not freeing the runner\n";
    return;
  }
  if (impl_->transport) impl_->transport->stop();
  delete impl_;
}

namespace {

nlohmann::json resolved_config(const LoadConfig& cfg, const PromptSupply& prompts, const nlohmann::json& ready,
                               const Transport& transport) {
  nlohmann::json loads;
  if (!cfg.concurrency.empty()) {
    loads = {{"mode", "closed-loop"}, {"concurrency", cfg.concurrency}};
  } else {
    loads = {{"mode", "open-loop"}, {"rate_per_s", cfg.rates}, {"arrival", cfg.arrival},
             {"max_in_flight", cfg.max_in_flight}};
  }
  loads["duration_s"] = cfg.duration_s;
  loads["requests"] = cfg.requests;
  loads["warmup_s"] = cfg.warmup_s;
  loads["warmup_requests"] = cfg.warmup_requests;
  loads["timeout_s"] = cfg.timeout_s;
  nlohmann::json out = {{"target", cfg.target},
          {"protocol", to_string(cfg.protocol)},
          {"model_id", cfg.model_id},
          {"tls", transport.uses_tls()},
          {"stream", cfg.stream},
          {"connections", cfg.connections},
          {"poll_threads", resolved_poll_threads(cfg.poll_threads)},
          {"dataset", prompts.to_json(cfg.dataset_path)},
          {"loads", loads},
          {"seed", cfg.seed},
          {"readiness", ready}};
  if (!cfg.server_deployment.is_null()) out["server_deployment"] = cfg.server_deployment;
  out["faults"] = {{"max_error_rate", cfg.max_error_rate},
                   {"error_window_s", cfg.error_window_s},
                   {"stall_timeout_s", cfg.stall_timeout_s},
                   {"reconnect_timeout_s", cfg.reconnect_timeout_s},
                   {"client_backoff", cfg.client_backoff ? nlohmann::json{{"base_s", cfg.backoff.base_s},
                                                                          {"cap_s", cfg.backoff.cap_s},
                                                                          {"max_retry_after_s", cfg.backoff.max_retry_after_s}}
                                                         : nlohmann::json(false)}};
  const nlohmann::json extra = transport.resolved_config_extra();
  if (!extra.is_null()) out[to_string(cfg.protocol)] = extra;
  return out;
}

void progress_line(const LoadConfig& cfg, const StageState& st, const std::string& label, int nstages, TimeNs now,
                   bool tty) {
  const double el = ns_to_seconds(now - st.start_ns);
  std::string total = "?";
  if (cfg.duration_s > 0) total = fmt::format("{:.0f}s", cfg.duration_s + cfg.warmup_s);
  else if (cfg.requests > 0) total = fmt::format("{} req", cfg.requests);
  const double win_el = st.window_start_ns >= 0 ? ns_to_seconds(now - st.window_start_ns) : 0;
  const double tok_s = win_el > 0 ? static_cast<double>(st.window_tokens) / win_el : 0;
  std::cerr << fmt::format("{}[stage {}/{} {}] {:.1f}s/{} in-flight {} completed {} errors {} tok/s {:.1f}{}",
                           tty ? "\r" : "", st.index + 1, nstages, label, el, total, st.in_flight, st.completed,
                           st.errors, tok_s, tty ? "   " : "\n")
            << std::flush;
}

}  // namespace

void LoadRunner::Impl::open_outputs() {
  std::filesystem::create_directories(cfg.out_dir);
  csv.open(cfg.out_dir / "requests.csv", std::ios::binary | std::ios::trunc);
  warmup_csv.open(cfg.out_dir / "warmup_requests.csv", std::ios::binary | std::ios::trunc);
  msg_csv.open(cfg.out_dir / "messages.csv", std::ios::binary | std::ios::trunc);
  schedule_csv.open(cfg.out_dir / "schedule.csv", std::ios::binary | std::ios::trunc);
  if (!csv || !msg_csv || !warmup_csv || !schedule_csv) throw std::runtime_error("cannot write in " + cfg.out_dir.string());
  csv << request_csv_header() << '\n' << std::flush;
  warmup_csv << request_csv_header() << '\n' << std::flush;
  msg_csv << "request_id,seq,t_ns,generated_tokens\n" << std::flush;
  // Every request sent (warm-up included) in send order: when the load plan put it, relative to the
  // stage start, and the lengths it asked for (tests/cli/predict_load_parity.sh compares it with predict).
  schedule_csv << "request_id,stage,user_id,warmup,scheduled_ns,input_tokens,output_tokens,sample_index\n" << std::flush;
}

// Resets the stage state, labels the stage and sends the closed loop's first requests.
void LoadRunner::Impl::begin_stage(int s, StageWindow& w) {
  const bool closed = !cfg.concurrency.empty();
  const auto si = static_cast<std::size_t>(s);
  {
    std::lock_guard lk(mu);
    st = StageState{};
    st.index = s;
    st.closed = closed;
    st.users = closed ? cfg.concurrency[si] : std::max(cfg.max_in_flight, 1);
    st.sending = true;
    st.start_ns = now_ns();
    st.source = prompts.stage_source(cfg.seed, closed ? cfg.concurrency[si] : cfg.rates[si]);
    st.warmup_source = prompts.warmup_source(cfg.seed, closed ? cfg.concurrency[si] : cfg.rates[si]);
    delayed_launch.clear();
    if (closed && cfg.client_backoff) backoff.emplace(cfg.backoff, cfg.seed, static_cast<std::uint64_t>(s));
    else backoff.reset();
    breaker.emplace(cfg.max_error_rate, seconds_to_ns(cfg.error_window_s));
    breaker->reset(st.start_ns);
  }
  w.stage = s;
  if (closed) {
    w.label = fmt::format("concurrency={}", cfg.concurrency[si]);
    w.load = {{"concurrency", cfg.concurrency[si]}};
  } else {
    w.label = fmt::format("rate={}", cfg.rates[si]);
    w.load = {{"rate_per_s", cfg.rates[si]}, {"arrival", cfg.arrival}, {"max_in_flight", cfg.max_in_flight}};
  }
  w.start_ns = st.start_ns;
  if (closed) {
    for (int u = 0; u < st.users; ++u) launch(u);
  }
}

// The control loop of one stage: paces open-loop arrivals, sends closed-loop users' next
// requests (after their backoff), watches the clock, signals, the error-rate breaker, stalls and
// progress; cancels stragglers after the drain timeout or a second signal. Returns true when
// `stop` (or `cancel_now`) ended the stage.
bool LoadRunner::Impl::control_stage(const std::atomic<bool>* stop, const std::atomic<bool>* cancel_now,
                                     const StageWindow& w, int nstages, bool tty) {
  const bool closed = !cfg.concurrency.empty();
  std::optional<OpenLoopSchedule> arrivals;
  if (!closed) {
    ArrivalSpec spec = parse_arrival(cfg.arrival);
    spec.rate_per_s = cfg.rates[static_cast<std::size_t>(w.stage)];
    arrivals.emplace(spec, cfg.seed, st.start_ns, seconds_to_ns(cfg.warmup_s), cfg.warmup_requests);
  }
  bool interrupted = false;
  TimeNs cancelled_at = -1;  // when the rest in flight was cancelled (drain timeout, second signal)
  drain_since = -1;
  TimeNs last_progress = 0, last_stall_scan = 0, last_flush = -kFlushEveryNs;
  const TimeNs progress_every = tty ? 500 * kNsPerMs : 5 * kNsPerS;
  while (true) {
    const TimeNs now = now_ns();
    bool sending = false, done = false, second_signal = false;
    std::vector<std::int64_t> users;
    {
      std::unique_lock lk(mu);
      second_signal = cancel_now != nullptr && cancel_now->load();
      if (((stop != nullptr && stop->load()) || second_signal) && st.sending) {
        st.sending = false;
        interrupted = true;
      }
      if (st.sending && st.window_end_ns >= 0 && now >= st.window_end_ns) st.sending = false;
      trip_breaker(now);
      sending = st.sending;
      if (!sending && drain_since < 0) drain_since = now;
      done = !sending && st.in_flight == 0;
      if (cfg.progress && now - last_progress >= progress_every) {
        progress_line(cfg, st, w.label, nstages, now, tty);
        last_progress = now;
      }
      users.swap(launch_pending);
      if (sending) take_due_launches(now, users);
      if (second_signal) interrupted = true;
    }
    if (done) break;
    for (const std::int64_t u : users) launch(u);
    if (cfg.stall_timeout_s > 0 && now - last_stall_scan >= kStallScanNs) {
      cancel_stalled(now);
      last_stall_scan = now;
    }
    const bool drain_over = !sending && now - drain_since > seconds_to_ns(cfg.timeout_s);
    if (cancelled_at < 0 && (second_signal || drain_over)) {
      // A second signal, or waited long enough for in-flight requests: cancel the rest (recorded
      // as unfinished).
      cancel_all(second_signal ? "second signal" : "drain timeout after stage end");
      cancelled_at = now;
    }
    if (cancelled_at >= 0 && now - cancelled_at > kCancelGraceNs) {
      std::cerr << "servetwin load: warning: requests still in flight 5 s after cancellation\n";
      break;
    }
    if (sending && !closed && now >= arrivals->due_ns()) {
      bool slot = true;
      if (cfg.max_in_flight > 0) {
        std::lock_guard lk(mu);
        slot = st.in_flight < cfg.max_in_flight;
      }
      if (slot) {
        launch(-1, arrivals->due_ns(), arrivals->warmup());
        arrivals->advance();
        continue;
      }
    }
    if (now - last_flush >= kFlushEveryNs) {
      flush_records();
      last_flush = now;
    }
    // Sleep until the next arrival or a completion, at most 20 ms (to see signals promptly).
    std::unique_lock lk(mu);
    if (!launch_pending.empty()) continue;
    TimeNs wake = now + 20 * kNsPerMs;
    if (sending && !closed && arrivals->due_ns() > now) wake = std::min(wake, arrivals->due_ns());
    cv.wait_until(lk, t0 + std::chrono::nanoseconds(wake));
  }
  return interrupted;
}

void LoadRunner::Impl::trip_breaker(TimeNs now) {
  if (!st.sending || !breaker || abort) return;
  std::string why = breaker->check(now);
  if (why.empty()) return;
  abort = true;
  abort_reason = std::move(why);
  st.sending = false;
}

// Closes the stage: its measurement window and warmup count.
void LoadRunner::Impl::end_stage(StageWindow& w, bool& interrupted, std::int64_t warm_before, int nstages, bool tty) {
  {
    std::lock_guard lk(mu);
    launch_pending.clear();  // the stage is over: its users send nothing more
    delayed_launch.clear();
  }
  flush_records();
  std::lock_guard lk(mu);
  if (cfg.progress) {
    progress_line(cfg, st, w.label, nstages, now_ns(), tty);
    if (tty) std::cerr << '\n';
  }
  w.window_start_ns = st.window_start_ns >= 0 ? st.window_start_ns : st.start_ns;
  if (st.window_end_ns >= 0) {
    w.window_end_ns = st.window_end_ns;
  } else {
    // Request-count mode (or interrupted before the window was known): window ends at the
    // last finish of the stage's requests.
    TimeNs last = w.window_start_ns;
    for (const auto& r : records) {
      if (r.rec.stage == w.stage) last = std::max(last, r.rec.finish_ns);
    }
    w.window_end_ns = last + 1;
  }
  // An interrupted duration stage measures only up to the interruption.
  if (interrupted || abort) w.window_end_ns = std::min(w.window_end_ns, std::max(drain_since, w.window_start_ns + 1));
  w.warmup_requests = warmup_total - warm_before;
  if (backoff) w.client_backoff = backoff->to_json();
  if (abort) interrupted = true;
}

// The stage's measured records (warm-up excluded) in each format of --formats.
void LoadRunner::Impl::write_stage_formats(const StageWindow& w, const StageMetrics& m,
                                           const std::vector<LiveRecord>& all_records, const std::string& name) const {
  std::vector<RequestRecord> stage_records;
  for (const auto& r : all_records) {
    if (r.rec.stage == w.stage && !r.warmup) stage_records.push_back(r.rec);
  }
  formats::StageFormatContext ctx;
  ctx.scenario_name = name;
  ctx.stage = w.stage;
  ctx.deployment = cfg.server_deployment.is_object() ? cfg.server_deployment : nlohmann::json::object();
  ctx.load = w.load;
  ctx.model_id = cfg.model_id;
  ctx.date = formats::result_date_now();
  formats::write_stage_formats(cfg.out_dir, fmt::format("stage{}", w.stage), stage_records, m, ctx, cfg.out_formats);
}

// Summary (same schema as the simulator) and llm-load-test JSON per stage.
nlohmann::json LoadRunner::Impl::write_summary(LoadResult& result, const nlohmann::json& ready) {
  const bool closed = !cfg.concurrency.empty();
  ScenarioResult sc;
  sc.name = fmt::format("live {} {}", to_string(cfg.protocol), cfg.target);
  sc.resolved_config = resolved_config(cfg, prompts, ready, *transport);
  if (token_plan) sc.resolved_config["prompt_tokens"] = token_plan->to_json();
  std::vector<RequestRecord> recs;
  recs.reserve(result.records.size());
  for (const auto& r : result.records) recs.push_back(r.rec);
  for (const auto& w : result.stages) {
    const StageMetrics m = compute_stage_metrics(recs, w.stage, w.window_start_ns, w.window_end_ns);
    std::vector<double> acks;
    std::map<std::string, std::int64_t> codes, count_methods;
    for (const auto& r : result.records) {
      if (r.rec.stage != w.stage) continue;
      ++codes[r.status_name];
      if (!r.token_count_method.empty()) ++count_methods[r.token_count_method];
      if (r.rec.status == RequestStatus::kOk && r.rec.ack_ns >= 0) acks.push_back(ns_to_ms(r.rec.ack_ns - r.rec.arrival_ns));
    }
    const Distribution a = summarize(acks);
    nlohmann::json stage = {{"load", w.load},
                            {"label", w.label},
                            {"metrics", m.to_json()},
                            {"window", {{"stage_start_ns", w.start_ns}, {"start_ns", w.window_start_ns},
                                        {"end_ns", w.window_end_ns}}},
                            {"warmup_requests", w.warmup_requests},
                            {"tt_ack_ms", {{"n", a.n}, {"mean", a.mean}, {"p50", a.p50}, {"p99", a.p99}}},
                            {transport->status_counts_key(), codes}};
    if (!count_methods.empty()) stage["token_count_methods"] = count_methods;
    stage["prompt_token_check"] = prompt_token_check(result.records, w.stage, token_plan.get());
    if (!w.client_backoff.is_null()) stage["client_backoff"] = w.client_backoff;
    sc.stages.push_back(std::move(stage));
    const auto llt = llm_load_test_json(cfg, w, result.records, t0_wall);
    const std::string fname = closed ? fmt::format("output-{:03d}.json", cfg.concurrency[static_cast<std::size_t>(w.stage)])
                                     : fmt::format("output-rate-{}.json", cfg.rates[static_cast<std::size_t>(w.stage)]);
    write_json_file(cfg.out_dir / "llm-load-test" / fname, llt);
    if (!cfg.out_formats.empty()) write_stage_formats(w, m, result.records, sc.name);
  }
  RunInfo info;
  info.producer = "live";
  info.seed = cfg.seed;
  info.partial = result.partial;
  info.partial_reason = result.partial_reason;
  return make_summary(info, {sc});
}

LoadResult LoadRunner::run(const std::atomic<bool>* stop, const std::atomic<bool>* cancel_now) {
  Impl& I = *impl_;
  const LoadConfig& cfg = I.cfg;
  I.transport = make_transport(cfg, I);
  // --ready-timeout 0: no check (an endpoint without a readiness route, or a test of request faults).
  const nlohmann::json ready =
      cfg.ready_timeout_s > 0 ? I.transport->wait_until_ready() : nlohmann::json{{"skipped", true}};
  if (I.prompts.synthetic()) {
    I.token_plan = std::make_shared<const PromptTokenPlan>(calibrate_prompt_tokens(*I.transport, cfg.seed));
    if (cfg.progress) {
      std::cerr << fmt::format("servetwin load: prompt tokens: {}, offset {}: {}\n", I.token_plan->method,
                               I.token_plan->offset_tokens, I.token_plan->detail);
    }
  }
  I.transport->start(resolved_poll_threads(cfg.poll_threads));
  I.open_outputs();

  I.t0 = Clock::now();
  I.t0_wall = std::chrono::system_clock::now();
  const bool tty = isatty(STDERR_FILENO) != 0;
  const int nstages = static_cast<int>(!cfg.concurrency.empty() ? cfg.concurrency.size() : cfg.rates.size());
  LoadResult result;
  bool interrupted = false;
  for (int s = 0; s < nstages && !interrupted; ++s) {
    std::int64_t warm_before = 0;
    {
      std::lock_guard lk(I.mu);
      if (I.abort) break;
      warm_before = I.warmup_total;
    }
    StageWindow w;
    I.begin_stage(s, w);
    interrupted = I.control_stage(stop, cancel_now, w, nstages, tty);
    I.end_stage(w, interrupted, warm_before, nstages, tty);
    result.stages.push_back(w);
  }

  I.flush_records();
  {
    std::lock_guard lk(I.mu);
    result.records = I.records;
    if (I.abort) {
      result.partial = true;
      result.partial_reason = I.abort_reason;
    } else if (interrupted && cancel_now != nullptr && cancel_now->load()) {
      result.partial = true;
      result.partial_reason = "interrupted by a second signal: stopped sending, cancelled the requests in flight";
    } else if (interrupted) {
      result.partial = true;
      result.partial_reason = "interrupted by signal: stopped sending, waited for in-flight requests";
    }
  }
  result.t0 = I.t0;
  result.summary = I.write_summary(result, ready);
  write_json_file(cfg.out_dir / "summary.json", result.summary);
  return result;
}

}  // namespace servetwin::live
