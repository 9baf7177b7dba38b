#include "live/load/transport.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <thread>

#include "live/load/runner.hpp"

namespace servetwin::live {

std::unique_ptr<Transport> make_transport(const LoadConfig& cfg, RequestHost& host) {
  switch (cfg.protocol) {
    case Protocol::kTgis: return make_tgis_transport(cfg, host);
    case Protocol::kCaikit: return make_caikit_transport(cfg, host);
    case Protocol::kOpenaiCompletions:
    case Protocol::kOpenaiChat: return make_openai_transport(cfg, host);
  }
  return nullptr;
}

ServerTokenCounts Transport::count_tokens(const std::vector<std::string>& /*texts*/) {
  return {"", {}, "no tokenizer call in this protocol"};
}

const char* llm_load_test_plugin_name(const LoadConfig& cfg) {
  switch (cfg.protocol) {
    case Protocol::kTgis: return "tgis_grpc_plugin";
    case Protocol::kCaikit: return "caikit_grpc";
    case Protocol::kOpenaiCompletions:
    case Protocol::kOpenaiChat: return "openai_plugin";
  }
  return "";
}

nlohmann::json retry_until_ready(
    const LoadConfig& cfg, const std::string& what,
    const std::function<nlohmann::json(std::chrono::steady_clock::duration limit, std::string& last)>& attempt) {
  using Clock = std::chrono::steady_clock;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(cfg.ready_timeout_s));
  std::string last = "no attempt made";
  int attempts = 0;
  while (true) {
    ++attempts;
    const auto limit = std::min<Clock::duration>(
        std::max<Clock::duration>(deadline - Clock::now(), std::chrono::milliseconds(200)), std::chrono::seconds(2));
    nlohmann::json answer = attempt(limit, last);
    if (!answer.is_null()) {
      answer["attempts"] = attempts;
      return answer;
    }
    if (Clock::now() + std::chrono::milliseconds(250) >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  throw std::runtime_error(fmt::format("readiness check failed: {} on {} did not succeed within {:.1f} s ({} attempts); "
                                       "last result: {}",
                                       what, cfg.target, cfg.ready_timeout_s, attempts, last));
}

InFlight::InFlight(RequestHost* host, LiveRecord rec, std::int64_t user_slot)
    : host_(host), rec_(std::move(rec)), user_slot_(user_slot), last_activity_ns_(rec_.rec.arrival_ns) {
  host_->object_created();
}

void InFlight::unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  RequestHost* host = host_;
  delete this;  // destroys the transport's call state (e.g. a ClientContext) first
  host->object_destroyed();
}

void InFlight::cancel(const std::string& why) {
  {
    std::lock_guard lk(mu_);
    if (end_.cancel_reason.empty()) end_.cancel_reason = why;
  }
  abort_io();
}

bool InFlight::on_message(TimeNs t, const MsgInfo& m) {
  std::lock_guard lk(mu_);
  auto& r = rec_.rec;
  std::string err;
  if (end_.final_seen) {
    err = "message received after the final message (stop_reason already set)";
  } else if (m.cumulative_tokens < end_.last_cum) {
    err = fmt::format("cumulative generated token count went backwards ({} -> {})", end_.last_cum,
                      m.cumulative_tokens);
  }
  if (!err.empty()) {
    if (end_.protocol_error.empty()) end_.protocol_error = err;
    if (end_.cancel_reason.empty()) end_.cancel_reason = "protocol error";
    return false;  // the caller aborts the exchange, outside this lock
  }
  if (r.ack_ns < 0) r.ack_ns = t;
  last_activity_ns_.store(t, std::memory_order_relaxed);
  if (m.input_tokens > 0 && r.input_tokens == 0) r.input_tokens = m.input_tokens;
  if (r.first_token_ns < 0 && (m.carries_output || m.cumulative_tokens > end_.last_cum)) r.first_token_ns = t;
  end_.last_cum = m.cumulative_tokens;
  rec_.messages.emplace_back(t, m.cumulative_tokens);
  if (!m.stop_reason.empty()) {
    end_.final_seen = true;
    end_.final_ns = t;
    r.stop_reason = m.stop_reason;
  }
  return true;
}

void InFlight::on_single_response(TimeNs t, const MsgInfo& m) {
  on_message(t, m);
  std::lock_guard lk(mu_);
  rec_.rec.first_token_ns = t;
}

void InFlight::set_protocol_error(const std::string& what) {
  std::lock_guard lk(mu_);
  if (end_.protocol_error.empty()) end_.protocol_error = what;
}

std::string InFlight::cancel_reason() {
  std::lock_guard lk(mu_);
  return end_.cancel_reason;
}

InFlight::EndState InFlight::end_state() {
  std::lock_guard lk(mu_);
  return end_;
}

void InFlight::on_done(const CallOutcome& outcome) {
  LiveRecord rec;
  {
    std::lock_guard lk(mu_);
    rec = std::move(rec_);
  }
  host_->complete(this, std::move(rec), outcome);
}

}  // namespace servetwin::live
