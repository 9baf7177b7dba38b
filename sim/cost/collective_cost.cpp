#include "sim/cost/collective_cost.hpp"

#include <cmath>
#include <string>

#include "sim/catalog/catalog.hpp"

namespace servetwin {
namespace {

// Picks the all-reduce point for `tp`: exact match, else the nearest degree (a larger ring is
// the conservative choice when both neighbours exist).
const AllReducePoint* find_allreduce(const InterconnectSpec& ic, int tp) {
  const AllReducePoint* best = nullptr;
  for (const auto& p : ic.allreduce) {
    if (p.tp == tp) return &p;
    if (best == nullptr || std::abs(p.tp - tp) < std::abs(best->tp - tp) ||
        (std::abs(p.tp - tp) == std::abs(best->tp - tp) && p.tp > best->tp)) {
      best = &p;
    }
  }
  return best;
}

}  // namespace

AllReduceCost::AllReduceCost(const InterconnectSpec& interconnect, int tp, double custom_allreduce_max_bytes)
    : tp_(tp), custom_max_bytes_(custom_allreduce_max_bytes) {
  if (tp_ <= 1) return;
  const AllReducePoint* p = find_allreduce(interconnect, tp_);
  if (p == nullptr) {
    throw ConfigError("interconnect '" + interconnect.name + "' has no all-reduce data; TP " + std::to_string(tp_) +
                      " needs it");
  }
  latency_ns_ = p->latency_ns;
  bus_bw_bytes_s_ = p->bus_bw_bytes_s;
  // The custom kernel needs full NVLink for TP > 2 (vllm_scheduling.md §7); the catalog gives its
  // latency only where the topology supports it.
  const bool topology_ok = interconnect.kind == "nvswitch" || tp_ == 2;
  if (custom_max_bytes_ > 0 && topology_ok && p->custom_latency_ns > 0) custom_latency_ns_ = p->custom_latency_ns;
}

double AllReduceCost::ns(double bytes) const {
  if (tp_ <= 1 || bytes <= 0) return 0;
  const double n = tp_;
  const bool custom = custom_latency_ns_ > 0 && bytes <= custom_max_bytes_;
  return (custom ? custom_latency_ns_ : latency_ns_) + bytes * 2 * (n - 1) / n / bus_bw_bytes_s_ * 1e9;
}

}  // namespace servetwin
