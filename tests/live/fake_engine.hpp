#pragma once
// A small continuous-batching engine for testing the twin and the runner independently of the
// real engine models: every step emits one token for each running request; a step lasts
// step_base_ns + step_per_seq_ns x batch, plus prefill_per_token_ns x the prompt tokens of the
// requests admitted in that step. At most max_concurrent requests are queued or running; beyond
// that a request is rejected (status kRejected), as the real engines report it.
#include <cstdint>
#include <map>
#include <vector>

#include "sim/engine/serving_sim.hpp"

namespace servetwin::testing {

struct FakeEngineParams {
  TimeNs step_base_ns = 8 * kNsPerMs;
  TimeNs step_per_seq_ns = 200 * kNsPerUs;
  TimeNs prefill_per_token_ns = 100 * kNsPerUs;
  std::int64_t max_concurrent = 64;
  std::int64_t max_sequence_length = 4096;
  std::int64_t max_new_tokens = 1024;
  // Benchmark mode: no shared steps; each request emits its tokens on its own clock (first after
  // step_base_ns, then every step_base_ns), so emissions are spread in time instead of arriving
  // in batch-sized bursts.
  bool independent_streams = false;
  // With independent_streams: the first token comes after step_base_ns x (1 + u), u in [0, 1)
  // fixed per request id, so the streams' clocks take uniformly spread phases. Without it, a
  // closed loop keeps every stream in phase (each next request starts when the previous one's
  // last token leaves) and all streams emit in the same instant once per step.
  bool spread_phases = false;
};

// The benchmarks' engine: independent streams (one token per step_ns per stream, no batching
// cost, no prefill cost), room for twice `streams` requests.
inline FakeEngineParams bench_stream_params(int streams, TimeNs step_ns, bool spread_phases) {
  FakeEngineParams p;
  p.max_concurrent = static_cast<std::int64_t>(streams) * 2;
  p.step_base_ns = step_ns;
  p.step_per_seq_ns = 0;
  p.prefill_per_token_ns = 0;
  p.independent_streams = true;
  p.spread_phases = spread_phases;
  return p;
}

class FakeEngine final : public ServingSim {
 public:
  FakeEngine(EventQueue& q, SimListener* l, FakeEngineParams p) : q_(q), l_(l), p_(p) {}
  void submit(const RequestInput& r, TimeNs at_ns) override;
  void cancel(std::uint64_t id) override;
  [[nodiscard]] EngineLimits limits() const override {
    return {p_.max_sequence_length, p_.max_new_tokens, p_.max_concurrent};
  }
  [[nodiscard]] nlohmann::json stats() const override { return {{"steps", steps_}}; }
  [[nodiscard]] std::size_t in_flight() const override { return reqs_.size(); }

 private:
  struct Req {
    RequestInput in;
    RequestRecord rec;
    std::int64_t emitted = 0;
    bool prefilled = false;
  };
  void arrive(const RequestInput& r);
  void maybe_step();
  void step_done();
  void independent_token(std::uint64_t id);

  EventQueue& q_;
  SimListener* l_;
  FakeEngineParams p_;
  std::map<std::uint64_t, Req> reqs_;  // ordered: deterministic iteration
  bool stepping_ = false;
  std::int64_t steps_ = 0;
};

}  // namespace servetwin::testing
