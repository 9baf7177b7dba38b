#include "tests/live/fake_engine.hpp"

namespace servetwin::testing {

void FakeEngine::submit(const RequestInput& r, TimeNs at_ns) {
  q_.schedule(at_ns, [this, r] { arrive(r); });
}

void FakeEngine::arrive(const RequestInput& r) {
  RequestRecord rec;
  rec.request_id = r.id;
  rec.stage = r.stage;
  rec.user_id = r.user_id;
  rec.input_tokens = r.input_tokens;
  rec.arrival_ns = q_.now();
  if (static_cast<std::int64_t>(reqs_.size()) >= p_.max_concurrent) {
    rec.status = RequestStatus::kRejected;
    rec.finish_ns = q_.now();
    rec.error = "max concurrent requests reached";
    if (l_ != nullptr) l_->on_request_done(rec);
    return;
  }
  reqs_[r.id] = Req{r, rec, 0, false};
  if (p_.independent_streams) {
    TimeNs first = p_.step_base_ns;
    if (p_.spread_phases) {
      // Fixed per id (a multiplicative hash), so runs are reproducible.
      const std::uint64_t h = (r.id + 1) * 0x9E3779B97F4A7C15ULL;
      first += static_cast<TimeNs>(static_cast<double>(h >> 11U) * 0x1.0p-53 * static_cast<double>(p_.step_base_ns));
    }
    q_.schedule(q_.now() + first, [this, id = r.id] { independent_token(id); });
    return;
  }
  maybe_step();
}

void FakeEngine::cancel(std::uint64_t id) {
  auto it = reqs_.find(id);
  if (it == reqs_.end()) return;
  RequestRecord rec = it->second.rec;
  reqs_.erase(it);
  rec.status = RequestStatus::kCancelled;
  rec.finish_ns = q_.now();
  if (l_ != nullptr) l_->on_request_done(rec);
}

void FakeEngine::independent_token(std::uint64_t id) {
  auto it = reqs_.find(id);
  if (it == reqs_.end()) return;  // cancelled
  Req& r = it->second;
  const TimeNs t = q_.now();
  if (r.emitted == 0) r.rec.first_token_ns = t;
  if (l_ != nullptr && l_->wants_tokens()) l_->on_token(id, r.emitted, t);
  if (++r.emitted < r.in.output_tokens) {
    q_.schedule(t + p_.step_base_ns, [this, id] { independent_token(id); });
    return;
  }
  RequestRecord rec = r.rec;
  rec.output_tokens = r.emitted;
  rec.finish_ns = t;
  rec.status = RequestStatus::kOk;
  reqs_.erase(it);
  if (l_ != nullptr) l_->on_request_done(rec);
}

void FakeEngine::maybe_step() {
  if (stepping_ || reqs_.empty()) return;
  stepping_ = true;
  TimeNs dur = p_.step_base_ns + p_.step_per_seq_ns * static_cast<TimeNs>(reqs_.size());
  for (auto& [id, r] : reqs_) {
    if (!r.prefilled) {
      dur += p_.prefill_per_token_ns * r.in.input_tokens;
      r.prefilled = true;
      if (r.rec.ack_ns < 0) r.rec.ack_ns = q_.now();
    }
  }
  q_.schedule(q_.now() + dur, [this] { step_done(); });
}

void FakeEngine::step_done() {
  stepping_ = false;
  ++steps_;
  const TimeNs t = q_.now();
  std::vector<std::uint64_t> finished;
  for (auto& [id, r] : reqs_) {
    if (!r.prefilled) continue;  // arrived during this step: joins the next one
    if (r.emitted == 0) r.rec.first_token_ns = t;
    if (l_ != nullptr && l_->wants_tokens()) l_->on_token(id, r.emitted, t);
    ++r.emitted;
    if (r.emitted >= r.in.output_tokens) finished.push_back(id);
  }
  for (const auto id : finished) {
    auto it = reqs_.find(id);
    RequestRecord rec = it->second.rec;
    rec.output_tokens = it->second.emitted;
    rec.finish_ns = t;
    rec.status = RequestStatus::kOk;
    reqs_.erase(it);
    if (l_ != nullptr) l_->on_request_done(rec);
  }
  maybe_step();
}

}  // namespace servetwin::testing
