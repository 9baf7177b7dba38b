#include "sim/engine/engine_base.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace servetwin {

EngineBase::EngineBase(EventQueue& queue, SimListener* listener, CostModel cost, std::string engine_name)
    : queue_(queue), listener_(listener), cost_(std::move(cost)), engine_name_(std::move(engine_name)) {}

void EngineBase::submit(const RequestInput& r, TimeNs at_ns) {
  auto req = std::make_unique<SimRequest>();
  req->in = r;
  req->rec.request_id = r.id;
  req->rec.stage = r.stage;
  req->rec.user_id = r.user_id;
  req->rec.input_tokens = r.input_tokens;
  req->rec.arrival_ns = at_ns;
  req->max_new_tokens = r.max_new_tokens;
  // The shared_ptr wrapper keeps the callback copyable for std::function.
  auto holder = std::make_shared<std::unique_ptr<SimRequest>>(std::move(req));
  queue_.schedule(at_ns, [this, holder] { on_arrival(std::move(*holder)); }, EventPriority::kArrival);
}

void EngineBase::on_arrival(std::unique_ptr<SimRequest> req) {
  SimRequest& r = *req;
  if (live_.count(r.in.id) != 0) throw std::logic_error("duplicate request id " + std::to_string(r.in.id));
  live_.emplace(r.in.id, std::move(req));
  ++in_flight_;
  const Admission a = admit(r);
  if (!a.accepted) {
    ++rejected_;
    finish_request(r, a.status, a.error);
    release(r);
    return;
  }
  r.target_tokens = std::min(r.in.output_tokens, r.max_new_tokens);
  r.target_tokens = std::max(r.target_tokens, std::min(r.in.min_new_tokens, r.max_new_tokens));
  r.target_tokens = std::max<std::int64_t>(r.target_tokens, 1);
  maybe_start_step();
}

void EngineBase::cancel(std::uint64_t request_id) {
  auto it = live_.find(request_id);
  if (it == live_.end() || it->second->done) return;
  SimRequest& r = *it->second;
  r.cancelled = true;
  // A request inside the running step is released when the step ends.
  const bool in_step = busy_ && std::any_of(current_.items.begin(), current_.items.end(),
                                            [&](const StepItem& i) { return i.req == &r; });
  if (!in_step) {
    on_cancel(r);
    finish_request(r, RequestStatus::kCancelled, "CANCELLED: client cancelled");
    release(r);
  }
}

void EngineBase::finish_request(SimRequest& req, RequestStatus status, const std::string& error) {
  req.done = true;
  req.rec.status = status;
  req.rec.error = error;
  req.rec.output_tokens = req.generated;
  if (req.rec.finish_ns < 0) req.rec.finish_ns = now();
  if (status == RequestStatus::kOk) {
    ++finished_;
    req.rec.stop_reason = req.generated >= req.max_new_tokens && req.max_new_tokens < req.in.max_new_tokens
                              ? "TOKEN_LIMIT"
                              : (req.generated >= req.in.max_new_tokens ? "MAX_TOKENS" : "EOS_TOKEN");
  }
  if (listener_ != nullptr) listener_->on_request_done(req.rec);
}

void EngineBase::release(SimRequest& req) {
  --in_flight_;
  live_.erase(req.in.id);  // destroys req
}

void EngineBase::maybe_start_step() {
  if (busy_) return;
  // Reset in place: the item vector keeps its capacity (a fresh Step would reallocate every step).
  current_.items.clear();
  current_.shape = StepShape{};
  current_.cost = StepCost{};
  current_.is_prefill_only = false;
  if (!plan_step(now(), current_)) return;
  current_.cost = cost_.step(current_.shape);
  current_.start_ns = now();
  // At least 1 ns per step so time always advances. The step's index draws its spread ratio (1 without one).
  const double step_ns = current_.cost.total_ns * step_time_spread_.ratio(steps_started_);
  const auto duration = std::max<TimeNs>(1, static_cast<TimeNs>(std::llround(step_ns)));
  current_.end_ns = now() + duration;
  busy_ = true;
  ++steps_started_;
  if (step_observer_) step_observer_(current_);
  for (auto& item : current_.items) {
    if (item.req->rec.ack_ns < 0) item.req->rec.ack_ns = now();
  }
  queue_.schedule(current_.end_ns, [this] { on_step_end(); }, EventPriority::kStepEnd);
}

void EngineBase::on_step_end() {
  busy_ = false;
  const TimeNs t = now();
  ++steps_;
  const bool has_prefill = current_.shape.prefill_seqs > 0;
  const bool has_decode = current_.shape.decode_seqs > 0;
  if (has_prefill && has_decode) ++mixed_steps_;
  else if (has_prefill) ++prefill_steps_;
  else ++decode_steps_;
  const auto seqs = static_cast<std::int64_t>(current_.items.size());
  max_batch_ = std::max(max_batch_, seqs);
  const double dur = static_cast<double>(current_.end_ns - current_.start_ns);
  batch_time_area_ += static_cast<double>(seqs) * dur;
  busy_ns_ += dur;
  total_cost_.gemm_ns += current_.cost.gemm_ns;
  total_cost_.attention_ns += current_.cost.attention_ns;
  total_cost_.elementwise_ns += current_.cost.elementwise_ns;
  total_cost_.copy_ns += current_.cost.copy_ns;
  total_cost_.comm_ns += current_.cost.comm_ns;
  total_cost_.overhead_ns += current_.cost.overhead_ns;
  total_cost_.total_ns += current_.cost.total_ns;

  const bool token_listener = listener_ != nullptr && listener_->wants_tokens();
  for (auto& item : current_.items) {
    SimRequest& r = *item.req;
    r.prompt_done += item.prefill_tokens;
    if (item.emits_token && !r.cancelled) {
      if (r.generated == 0) r.rec.first_token_ns = t;
      if (token_listener) listener_->on_token(r.in.id, r.generated, t);
      ++r.generated;
      if (r.generated >= r.target_tokens) {
        r.rec.finish_ns = t;
        r.done = true;
      }
    }
  }
  on_step_done(current_);
  // Release finished and cancelled requests (in step order: deterministic).
  for (auto& item : current_.items) {
    SimRequest& r = *item.req;
    if (r.cancelled && !r.done) {
      on_cancel(r);
      finish_request(r, RequestStatus::kCancelled, "CANCELLED: client cancelled");
      release(r);
    } else if (r.done && r.rec.status == RequestStatus::kUnfinished) {
      finish_request(r, RequestStatus::kOk);
      release(r);
    }
  }
  current_.items.clear();
  maybe_start_step();
}

nlohmann::json EngineBase::stats() const {
  nlohmann::json j;
  j["engine"] = engine_name_;
  j["steps"] = {{"total", steps_}, {"prefill_only", prefill_steps_}, {"mixed", mixed_steps_}, {"decode_only", decode_steps_}};
  j["batch"] = {{"max", max_batch_}, {"mean_while_busy", busy_ns_ > 0 ? batch_time_area_ / busy_ns_ : 0.0}};
  j["busy_s"] = busy_ns_ * 1e-9;
  j["time_breakdown_s"] = {{"gemm", total_cost_.gemm_ns * 1e-9},
                           {"attention", total_cost_.attention_ns * 1e-9},
                           {"elementwise", total_cost_.elementwise_ns * 1e-9},
                           {"copy", total_cost_.copy_ns * 1e-9},
                           {"communication", total_cost_.comm_ns * 1e-9},
                           {"overhead", total_cost_.overhead_ns * 1e-9},
                           {"total", total_cost_.total_ns * 1e-9}};
  j["kv"] = kv_.to_json(now());
  j["memory"] = memory_.to_json();
  j["weight_bytes_per_gpu"] = cost_.weight_bytes_per_gpu();
  j["kv_bytes_per_token_per_gpu"] = cost_.kv_bytes_per_token_per_gpu();
  j["requests"] = {{"finished", finished_}, {"rejected", rejected_}, {"in_flight_at_end", in_flight_}};
  j["engine_specific"] = engine_stats();
  j["settings"] = resolved_settings_;
  return j;
}

}  // namespace servetwin
