#include "live/twin/twin_engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <future>
#include <stdexcept>

#include "live/common/util.hpp"

namespace servetwin::live {

using Clock = std::chrono::steady_clock;

namespace {

std::int64_t steady_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

double seconds(TimeNs ns) { return static_cast<double>(ns) * 1e-9; }

// The status a request that did not finish ok is answered with.
TwinStatus status_for(const RequestRecord& r) {
  switch (r.status) {
    case RequestStatus::kRejected:
      return {TwinCode::kResourceExhausted, r.error.empty() ? "engine at max concurrent requests" : r.error};
    case RequestStatus::kCancelled: return {TwinCode::kCancelled, "cancelled"};
    default: return {TwinCode::kInternal, "simulated engine: " + r.error};
  }
}

// KV capacity in tokens from the engine's run statistics (KvLedger units; see sim/kv/kv_ledger.hpp).
KvCapacity kv_capacity_of(const nlohmann::json& stats) {
  KvCapacity c;
  if (!stats.contains("kv")) return c;
  const auto& kv = stats["kv"];
  const std::string unit = kv.value("unit", "");
  const double capacity = kv.value("capacity", 0.0);
  if (unit == "tokens") {
    c.tokens = capacity;
  } else if (unit == "blocks") {
    c.block_tokens = stats.contains("engine_specific") ? stats["engine_specific"].value("block_size", 1) : 1;
    c.tokens = capacity * static_cast<double>(c.block_tokens);
  }
  return c;
}

}  // namespace

struct TwinEngine::Cmd {
  enum class Kind { kSubmit, kCancel, kMetrics } kind;
  std::shared_ptr<TwinRequest> request;
  TwinRequest* cancel_target = nullptr;
  std::promise<std::string>* metrics = nullptr;
};

// Driver-thread bookkeeping per request in the engine (for metrics and the sinks).
struct TwinEngine::Active {
  std::shared_ptr<TwinRequest> request;
  TimeNs submit_ns = 0;
  TimeNs last_token_ns = -1;
  std::int64_t tokens = 0;  // emitted so far
  // With log_emissions: steady_clock ns when the first / latest token went to the adapter.
  std::int64_t first_sent_steady_ns = -1, last_sent_steady_ns = -1;
  std::int64_t first_due_steady_ns = -1;  // when the engine's clock made the first token due
};

struct TwinEngine::Listener final : SimListener {
  explicit Listener(TwinEngine* e) : engine(e) {}
  [[nodiscard]] bool wants_tokens() const override { return true; }
  void on_token(std::uint64_t id, std::int64_t index, TimeNs t) override { engine->on_token(id, index, t); }
  void on_request_done(const RequestRecord& r) override { engine->on_request_done(r); }
  TwinEngine* engine;
};

TwinEngine::TwinEngine(const TwinOptions& opts, SimFactory factory)
    : opts_(opts), factory_(std::move(factory)), listener_(std::make_unique<Listener>(this)),
      queue_(std::make_unique<EventQueue>()) {}

TwinEngine::~TwinEngine() { stop(); }

void TwinEngine::start() {
  sim_ = factory_(*queue_, listener_.get());
  if (!sim_) throw std::runtime_error("twin: engine factory returned no simulator");
  lim_ = sim_->limits();
  kv_capacity_ = kv_capacity_of(sim_->stats());
  metrics_.configure(opts_.model_name, lim_.max_sequence_length);
  t0_ = Clock::now();
  driver_ = std::thread([this] { run_driver(); });
}

void TwinEngine::stop() {
  {
    std::lock_guard lk(inbox_mu_);
    stop_ = true;
  }
  inbox_cv_.notify_all();
  if (driver_.joinable()) driver_.join();
  // Nobody renders metrics any more: answer pending scrapes with nothing.
  std::lock_guard lk(inbox_mu_);
  for (auto& c : inbox_) {
    if (c.kind == Cmd::Kind::kMetrics) c.metrics->set_value({});
  }
  inbox_.clear();
}

TimeNs TwinEngine::wall_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0_).count();
}

void TwinEngine::post(Cmd c) {
  {
    std::lock_guard lk(inbox_mu_);
    if (stop_ && c.kind == Cmd::Kind::kMetrics) {
      c.metrics->set_value({});
      return;
    }
    inbox_.push_back(std::move(c));
  }
  inbox_cv_.notify_one();
}

void TwinEngine::count(std::int64_t TwinStats::*field, std::int64_t n) {
  std::lock_guard lk(stats_mu_);
  st_.*field += n;
}

TwinStatus TwinEngine::admit(TwinRequest& r, const AdmitParams& p) const {
  r.input_tokens = p.input_tokens > 0 ? p.input_tokens : approx_token_count(p.text);
  if (p.truncate_input_tokens > 0 && r.input_tokens > p.truncate_input_tokens) r.input_tokens = p.truncate_input_tokens;
  std::int64_t max_new = p.max_new_tokens;
  const std::int64_t min_new = p.min_new_tokens;
  if (max_new < 0 || min_new < 0) {
    return {TwinCode::kInvalidArgument, "max_new_tokens and min_new_tokens must be >= 0"};
  }
  if (max_new == 0) max_new = std::max(opts_.default_max_new_tokens, min_new);
  if (min_new > max_new) {
    return {TwinCode::kInvalidArgument,
            fmt::format("min_new_tokens ({}) must be <= max_new_tokens ({})", min_new, max_new)};
  }
  if (lim_.max_new_tokens > 0 && max_new > lim_.max_new_tokens) {
    return {TwinCode::kInvalidArgument, fmt::format("max_new_tokens ({}) must be <= {}", max_new, lim_.max_new_tokens)};
  }
  if (lim_.max_sequence_length > 0 && r.input_tokens >= lim_.max_sequence_length) {
    return {TwinCode::kInvalidArgument, fmt::format("input is {} tokens; it must be shorter than max_sequence_length {} "
                                                    "(tokens counted as ceil(bytes/4))",
                                                    r.input_tokens, lim_.max_sequence_length)};
  }
  r.max_new_tokens = max_new;
  r.output_tokens = twin_output_tokens(opts_.seed, p.text, min_new, max_new);
  r.stop = r.output_tokens == max_new ? TwinStop::kMaxTokens : TwinStop::kEosToken;
  if (lim_.max_sequence_length > 0 && r.input_tokens + r.output_tokens > lim_.max_sequence_length) {
    r.output_tokens = lim_.max_sequence_length - r.input_tokens;  // the context fills up first
    r.stop = TwinStop::kTokenLimit;
  }
  r.prompt = p.text;
  return {};
}

void TwinEngine::submit(const std::shared_ptr<TwinRequest>& r) {
  if (opts_.log_emissions) r->received_steady_ns = steady_ns(Clock::now());
  count(&TwinStats::accepted);
  post(Cmd{Cmd::Kind::kSubmit, r, nullptr, nullptr});
}

void TwinEngine::refuse(TwinRequest& r, const TwinStatus& s) {
  count_invalid();
  r.on_fail(s);
}

void TwinEngine::count_invalid() { count(&TwinStats::invalid); }

void TwinEngine::cancel(TwinRequest* r) { post(Cmd{Cmd::Kind::kCancel, nullptr, r, nullptr}); }

std::string TwinEngine::metrics_text() {
  std::promise<std::string> p;
  auto f = p.get_future();
  post(Cmd{Cmd::Kind::kMetrics, nullptr, nullptr, &p});
  return f.get();
}

void TwinEngine::on_token(std::uint64_t id, std::int64_t index, TimeNs t) {
  auto it = active_.find(id);
  if (it == active_.end()) return;
  Active& a = it->second;
  if (index >= a.request->output_tokens) return;
  if (index == 0) {
    metrics_.on_first_token(a.request->input_tokens, seconds(t - a.submit_ns));
    if (opts_.log_emissions) {
      const auto now = steady_ns(Clock::now());
      std::lock_guard lk(stats_mu_);
      emissions_[a.request->x_request_id] = now;
    }
  } else {
    metrics_.on_token(seconds(t - a.last_token_ns));
  }
  a.last_token_ns = t;
  a.tokens = index + 1;
  if (opts_.log_emissions) {  // the twin's send time of this token: its hand-off to the adapter
    a.last_sent_steady_ns = steady_ns(Clock::now());
    if (index == 0) {
      a.first_sent_steady_ns = a.last_sent_steady_ns;
      a.first_due_steady_ns = steady_ns(t0_) + t;
    }
  }
  a.request->on_token(index);
  touched_.push_back(a.request);
}

void TwinEngine::on_request_done(const RequestRecord& rec) {
  auto it = active_.find(rec.request_id);
  if (it == active_.end()) return;
  const Active a = std::move(it->second);
  active_.erase(it);
  id_of_.erase(a.request.get());
  in_flight_.store(static_cast<std::int64_t>(active_.size()), std::memory_order_relaxed);
  if (opts_.log_emissions) {
    std::lock_guard lk(stats_mu_);
    times_[a.request->x_request_id].second = rec.finish_ns;
    if (rec.status == RequestStatus::kOk) {
      sent_.push_back({a.request->x_request_id, a.request->received_steady_ns, a.first_sent_steady_ns,
                       a.last_sent_steady_ns, a.tokens, a.first_due_steady_ns,
                       a.request->first_flush_begin_steady_ns, a.request->first_flush_end_steady_ns});
    }
  }
  if (rec.status != RequestStatus::kOk) {
    if (rec.status == RequestStatus::kRejected) count(&TwinStats::rejected);
    a.request->on_fail(status_for(rec));
    return;
  }
  count(&TwinStats::completed);
  FinishedRequest f;
  const TimeNs scheduled = rec.ack_ns >= 0 ? rec.ack_ns : a.submit_ns;
  const TimeNs first = rec.first_token_ns >= 0 ? rec.first_token_ns : rec.finish_ns;
  f.e2e_s = seconds(rec.finish_ns - a.submit_ns);
  f.queue_s = seconds(scheduled - a.submit_ns);
  f.inference_s = seconds(rec.finish_ns - scheduled);
  f.prefill_s = seconds(first - scheduled);
  f.decode_s = seconds(rec.finish_ns - first);
  f.prompt_tokens = a.request->input_tokens;
  f.generation_tokens = a.tokens;
  f.max_tokens = a.request->max_new_tokens;
  f.finished_reason = a.tokens < a.request->output_tokens || a.request->stop == TwinStop::kEosToken ? "stop" : "length";
  metrics_.on_finished(f);
  a.request->on_done(a.tokens);
}

TwinGauges TwinEngine::gauges() const {
  TwinGauges g;
  double kv_tokens = 0;
  for (const auto& [id, a] : active_) {
    if (a.tokens == 0) {
      ++g.waiting;
      continue;
    }
    ++g.running;
    const std::int64_t held = a.request->input_tokens + a.tokens;
    const std::int64_t b = kv_capacity_.block_tokens;
    kv_tokens += static_cast<double>((held + b - 1) / b * b);  // NOLINT(bugprone-integer-division): rounds up to whole blocks
  }
  if (kv_capacity_.tokens > 0) g.kv_usage = std::min(1.0, kv_tokens / kv_capacity_.tokens);
  const nlohmann::json s = sim_->stats();
  if (s.contains("engine_specific") && s["engine_specific"].is_object()) {
    g.preemptions = s["engine_specific"].value("preemptions", std::int64_t{0});
  }
  return g;
}

void TwinEngine::run_driver() {
  std::vector<Cmd> cmds;
  for (;;) {
    {
      std::unique_lock lk(inbox_mu_);
      for (;;) {
        if (stop_) return;
        if (!inbox_.empty()) break;
        if (!queue_->empty()) {
          const TimeNs next = queue_->next_time();
          if (next <= wall_ns()) break;
          inbox_cv_.wait_until(lk, t0_ + std::chrono::nanoseconds(next));
        } else {
          inbox_cv_.wait(lk);
        }
      }
      cmds.swap(inbox_);
    }
    const TimeNs now = std::max(wall_ns(), queue_->now());
    // Bring the engine up to just before `now` first: an engine may look at its own state when a
    // request is submitted, and that state must not lag behind the submission time.
    if (now > 0) queue_->run_until(now - 1);
    for (auto& c : cmds) {
      if (c.kind == Cmd::Kind::kSubmit) {
        const std::uint64_t id = next_id_++;
        RequestInput in;
        in.id = id;
        in.input_tokens = c.request->input_tokens;
        in.max_new_tokens = c.request->max_new_tokens;
        in.min_new_tokens = c.request->output_tokens;
        in.output_tokens = c.request->output_tokens;
        active_[id] = Active{c.request, now, -1, 0, -1, -1};
        in_flight_.store(static_cast<std::int64_t>(active_.size()), std::memory_order_relaxed);
        id_of_[c.request.get()] = id;
        if (opts_.log_emissions) {
          std::lock_guard lk(stats_mu_);
          times_[c.request->x_request_id] = {now, -1};
          submit_order_.push_back(c.request->x_request_id);
        }
        sim_->submit(in, now);
      } else if (c.kind == Cmd::Kind::kCancel) {
        auto it = id_of_.find(c.cancel_target);
        if (it == id_of_.end()) continue;  // already finished
        const std::uint64_t id = it->second;
        auto request = active_[id].request;
        active_.erase(id);
        id_of_.erase(it);
        in_flight_.store(static_cast<std::int64_t>(active_.size()), std::memory_order_relaxed);
        count(&TwinStats::cancelled);
        metrics_.on_aborted();
        sim_->cancel(id);  // frees the engine's slot and KV; its record (if any) finds no request
        request->on_fail({TwinCode::kCancelled, "cancelled by client"});
      } else {
        c.metrics->set_value(metrics_.render(gauges()));
      }
    }
    cmds.clear();
    queue_->run_until(std::max(wall_ns(), queue_->now()));
    flush_touched();
  }
}

void TwinEngine::flush_touched() {
  for (auto& r : touched_) {
    if (!opts_.log_emissions || r->first_flush_end_steady_ns >= 0) {
      r->flush();
      continue;
    }
    r->first_flush_begin_steady_ns = steady_ns(Clock::now());
    r->flush();
    r->first_flush_end_steady_ns = steady_ns(Clock::now());
  }
  touched_.clear();
}

TwinStats TwinEngine::stats() const {
  std::lock_guard lk(stats_mu_);
  TwinStats s = st_;
  s.messages = messages_sent_.load();
  return s;
}

void TwinEngine::log_first_token_handoff(const TwinRequest& r) {
  if (!opts_.log_emissions) return;
  const auto t = steady_ns(Clock::now());
  std::lock_guard lk(stats_mu_);
  handoffs_[r.x_request_id] = t;
}

std::map<std::string, std::int64_t> TwinEngine::first_token_emissions() const {
  std::lock_guard lk(stats_mu_);
  return emissions_;
}

std::map<std::string, std::int64_t> TwinEngine::first_token_handoffs() const {
  std::lock_guard lk(stats_mu_);
  return handoffs_;
}

std::map<std::string, std::pair<TimeNs, TimeNs>> TwinEngine::request_times() const {
  std::lock_guard lk(stats_mu_);
  return times_;
}

std::vector<std::string> TwinEngine::submit_order() const {
  std::lock_guard lk(stats_mu_);
  return submit_order_;
}

std::int64_t TwinEngine::steady_origin_ns() const { return steady_ns(t0_); }

std::vector<TwinSentRecord> TwinEngine::sent_log() const {
  std::lock_guard lk(stats_mu_);
  return sent_;
}

}  // namespace servetwin::live
