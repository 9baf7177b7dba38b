#include "sim/engine/capacity_policy.hpp"

#include <stdexcept>

namespace servetwin {

namespace {

class MaxUtilization final : public CapacityPolicy {
 public:
  [[nodiscard]] const char* name() const override { return "max_utilization"; }
  [[nodiscard]] bool may_start(const PagedState& /*state*/, std::int64_t /*footprint_blocks*/) const override {
    return true;
  }
  [[nodiscard]] bool reserves_footprint() const override { return false; }
};

class GuaranteedNoEvict final : public CapacityPolicy {
 public:
  [[nodiscard]] const char* name() const override { return "guaranteed_no_evict"; }
  [[nodiscard]] bool may_start(const PagedState& state, std::int64_t footprint_blocks) const override {
    return state.committed_blocks() + footprint_blocks <= state.total_blocks();
  }
  [[nodiscard]] bool reserves_footprint() const override { return true; }
};

class StaticBatch final : public CapacityPolicy {
 public:
  [[nodiscard]] const char* name() const override { return "static_batch"; }
  [[nodiscard]] bool may_start(const PagedState& state, std::int64_t footprint_blocks) const override {
    return footprint_blocks <= state.free_blocks();
  }
  [[nodiscard]] bool reserves_footprint() const override { return false; }
};

}  // namespace

std::unique_ptr<CapacityPolicy> make_capacity_policy(const std::string& name) {
  if (name == "max_utilization") return std::make_unique<MaxUtilization>();
  if (name == "guaranteed_no_evict") return std::make_unique<GuaranteedNoEvict>();
  if (name == "static_batch") return std::make_unique<StaticBatch>();
  throw std::logic_error("unknown capacity policy '" + name + "'");  // callers pass checked choices
}

}  // namespace servetwin
