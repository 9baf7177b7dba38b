#include "sim/engine/capacity_policy.hpp"

#include <stdexcept>

namespace servetwin {

namespace {

class MaxUtilization final : public CapacityPolicy {
 public:
  [[nodiscard]] const char* name() const override { return "max_utilization"; }
  [[nodiscard]] bool may_start(const KvView& /*view*/, double /*demand*/) const override { return true; }
  [[nodiscard]] bool reserves_footprint() const override { return false; }
};

class GuaranteedNoEvict final : public CapacityPolicy {
 public:
  [[nodiscard]] const char* name() const override { return "guaranteed_no_evict"; }
  [[nodiscard]] bool may_start(const KvView& view, double demand) const override {
    return view.kv_committed() + demand <= view.kv_total();
  }
  [[nodiscard]] bool reserves_footprint() const override { return true; }
};

class StaticBatch final : public CapacityPolicy {
 public:
  [[nodiscard]] const char* name() const override { return "static_batch"; }
  [[nodiscard]] bool may_start(const KvView& view, double demand) const override { return demand <= view.kv_free(); }
  [[nodiscard]] bool reserves_footprint() const override { return false; }
};

class ProjectedPeak final : public CapacityPolicy {
 public:
  [[nodiscard]] const char* name() const override { return "projected_peak"; }
  [[nodiscard]] bool may_start(const KvView& view, double demand) const override { return demand <= view.kv_total(); }
  [[nodiscard]] bool reserves_footprint() const override { return false; }
};

}  // namespace

std::unique_ptr<CapacityPolicy> make_capacity_policy(const std::string& name) {
  if (name == "max_utilization") return std::make_unique<MaxUtilization>();
  if (name == "guaranteed_no_evict") return std::make_unique<GuaranteedNoEvict>();
  if (name == "static_batch") return std::make_unique<StaticBatch>();
  if (name == "projected_peak") return std::make_unique<ProjectedPeak>();
  throw std::logic_error("unknown capacity policy '" + name + "'");  // callers pass checked choices
}

}  // namespace servetwin
