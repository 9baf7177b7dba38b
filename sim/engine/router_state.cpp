#include "sim/engine/router_state.hpp"

#include <algorithm>

namespace servetwin {

void RouterCommit::enqueue(SimRequest* r) {
  s_.waiting_.push_back(r);
  s_.max_waiting_ = std::max<std::int64_t>(s_.max_waiting_, static_cast<std::int64_t>(s_.waiting_.size()));
}

void RouterCommit::start_prefill(SimRequest* r, std::int64_t reserve_tokens) {
  auto& q = s_.waiting_;
  // Usually the head (TGI takes a FIFO prefix); TGIS may skip ahead of earlier candidates.
  q.erase(std::find(q.begin(), q.end(), r));
  r->engine_slot = reserve_tokens;
  s_.reserved_ += reserve_tokens;
}

void RouterCommit::release(SimRequest& r) {
  s_.reserved_ -= r.engine_slot;
  r.engine_slot = 0;
}

void RouterCommit::prefill_done(const Step& step) {
  if (!s_.running_.empty()) s_.merge_pending_ = true;
  for (const auto& item : step.items) {
    SimRequest* r = item.req;
    if (!r->done && !r->cancelled) {
      s_.running_.push_back(r);
    } else {
      release(*r);
    }
  }
  s_.waiting_tokens_ = 1;
  s_.last_prefill_end_ns_ = step.end_ns;
  s_.last_prefill_duration_ns_ = step.end_ns - step.start_ns;
}

void RouterCommit::decode_done() {
  s_.merge_pending_ = false;
  ++s_.waiting_tokens_;
  auto& running = s_.running_;
  const auto ended = [](const SimRequest* r) { return r->done || r->cancelled; };
  for (SimRequest* r : running) {
    if (ended(r)) release(*r);
  }
  running.erase(std::remove_if(running.begin(), running.end(), ended), running.end());
}

void RouterCommit::close(SimRequest& r) {
  s_.waiting_.erase(std::remove(s_.waiting_.begin(), s_.waiting_.end(), &r), s_.waiting_.end());
  s_.running_.erase(std::remove(s_.running_.begin(), s_.running_.end(), &r), s_.running_.end());
  release(r);
}

}  // namespace servetwin
