#include "sim/workload/wave_gate.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace servetwin {

WaveGate::WaveGate(std::int64_t wave_size) : wave_size_(wave_size) {
  if (wave_size_ < 1) throw std::invalid_argument(fmt::format("wave size {}: must be >= 1", wave_size_));
}

void WaveGate::wave_sent(std::int64_t sent) {
  if (outstanding_ != 0) throw std::logic_error("WaveGate: a wave was sent before the previous one ended");
  if (sent < 1 || sent > wave_size_) throw std::logic_error(fmt::format("WaveGate: wave of {} requests", sent));
  outstanding_ = sent;
  ++waves_;
}

bool WaveGate::request_ended() {
  if (outstanding_ <= 0) throw std::logic_error("WaveGate: a request ended outside any wave");
  return --outstanding_ == 0;
}

}  // namespace servetwin
