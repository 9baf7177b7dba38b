#pragma once
// Wave-synchronised closed loop: the arrival process of benchmark harnesses that send N requests at once, wait
// for the slowest of them, then send the next N (batch-style clients: a fixed pool that joins on every batch,
// e.g. `asyncio.gather` over N requests). It differs from the ordinary closed loop, where each user sends its
// next request as soon as its own reply arrives: here a wave's fast requests idle until its slowest finishes, so
// the server's batch drains to empty between waves.
#include <cstdint>

namespace servetwin {

class WaveGate {
 public:
  // `wave_size`: requests per wave (the closed loop's concurrency), >= 1.
  explicit WaveGate(std::int64_t wave_size);

  [[nodiscard]] std::int64_t wave_size() const { return wave_size_; }
  // A new wave of `sent` requests has been sent (`sent` <= wave_size: the last wave may be short).
  void wave_sent(std::int64_t sent);
  // One request of the current wave ended (completed, rejected or failed: a harness counts the error and
  // moves on). True when it was the wave's last: the next wave may be sent now.
  bool request_ended();
  [[nodiscard]] std::int64_t waves_sent() const { return waves_; }
  [[nodiscard]] std::int64_t outstanding() const { return outstanding_; }

 private:
  std::int64_t wave_size_;
  std::int64_t outstanding_ = 0;
  std::int64_t waves_ = 0;
};

}  // namespace servetwin
