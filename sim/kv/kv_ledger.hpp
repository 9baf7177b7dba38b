#pragma once
// KvLedger: reports an engine's KV/batch-memory use in engine-specific units (tokens, 16-token
// blocks, or TGIS "weight" bytes): capacity, peak and time-weighted mean, for the run summary. It is
// a meter, not the cache: engines set its use after planning and after each step (set_used), and it
// refuses a use above capacity. Nothing plans against it. The paged engines' cache and its contract
// (planning reads a const view, one commit path allocates, frees and preempts) are in
// sim/engine/paged_state.hpp; TGIS and TGI admit against their own batch-weight / token limits.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/core/time.hpp"

namespace servetwin {

class KvLedger {
 public:
  KvLedger() = default;
  KvLedger(std::string unit, double capacity) : unit_(std::move(unit)), capacity_(capacity) {}

  [[nodiscard]] const std::string& unit() const { return unit_; }
  [[nodiscard]] double capacity() const { return capacity_; }
  [[nodiscard]] double used() const { return used_; }
  [[nodiscard]] double free() const { return capacity_ - used_; }
  [[nodiscard]] double peak() const { return peak_; }

  // Sets current use at time `now` (updates the time-weighted mean). Throws std::logic_error if
  // use would exceed capacity: an engine that admits beyond capacity is a bug, not a result.
  void set_used(double used, TimeNs now);
  [[nodiscard]] double mean_used(TimeNs now) const;
  [[nodiscard]] nlohmann::json to_json(TimeNs now) const;

 private:
  std::string unit_ = "tokens";
  double capacity_ = 0;
  double used_ = 0;
  double peak_ = 0;
  double area_ = 0;  // integral of used over time, unit*ns
  TimeNs last_ns_ = 0;
  TimeNs first_ns_ = -1;
};

}  // namespace servetwin
