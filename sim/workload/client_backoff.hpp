#pragma once
// Client backoff after an overload answer (gRPC RESOURCE_EXHAUSTED, HTTP 429/503) or a refused
// connection: the wait before the same user's next request. One definition for both sides, so the
// simulator's closed loop (opt-in, `--client-backoff`) models exactly what `servetwin load` does:
//   - the server said when (Retry-After): that many seconds, at most max_retry_after_s;
//   - otherwise exponential with "equal jitter": base * 2^(k-1), capped at cap_s, times a factor
//     drawn uniformly in [0.5, 1) (k = the user's consecutive refusals), so users refused together
//     do not all come back at the same instant, and each still waits at least half the step.
// A served request resets the user's count. Draws come from one seeded stream: a run is reproducible.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/core/rng.hpp"
#include "sim/core/time.hpp"

namespace servetwin {

struct ClientBackoffSpec {
  double base_s = 0.1;             // first wait without Retry-After
  double cap_s = 10.0;             // longest exponential wait
  double max_retry_after_s = 60;   // longest server-requested wait honoured (a bound on a bad header)
};

class ClientBackoff {
 public:
  ClientBackoff(ClientBackoffSpec spec, std::uint64_t seed, std::uint64_t stream);
  // User `user` (>= 0) was refused; `retry_after_s` < 0 = the server did not say. Returns the wait.
  TimeNs on_refused(std::int64_t user, double retry_after_s);
  // User `user`'s request was served (any answer but a refusal): its next refusal starts over.
  void on_served(std::int64_t user);
  // {"waits", "retry_after_waits", "total_wait_s", "max_wait_s"}: what the summary records.
  [[nodiscard]] nlohmann::json to_json() const;
  [[nodiscard]] std::int64_t waits() const { return waits_; }

 private:
  ClientBackoffSpec spec_;
  Rng rng_;
  std::vector<int> consecutive_;  // per user
  std::int64_t waits_ = 0, retry_after_waits_ = 0;
  TimeNs total_ns_ = 0, max_ns_ = 0;
};

}  // namespace servetwin
