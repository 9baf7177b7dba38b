#pragma once
// A replica set behind a router, simulated for real: `k` engines share one event queue and a
// request goes to one of them when it arrives. It is a ServingSim itself, so a load stage drives it
// exactly as it drives one engine (run_stage's ServingSimFactory). Routers:
//   round-robin               replica (n mod k) for the n-th request;
//   least-outstanding         the replica with the fewest requests queued or running (lowest index on ties);
//   prefix-aware              requests of one prefix group stick to one replica (group mod k), so its
//                             prefix cache is warm; requests without a group go least-outstanding.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/engine/serving_sim.hpp"
#include "sim/scenario/scenario.hpp"

namespace servetwin {

enum class RouterPolicy { kRoundRobin, kLeastOutstanding, kPrefixAware };

// Throws ConfigError naming the allowed routers.
RouterPolicy parse_router(const std::string& name);
std::string to_string(RouterPolicy p);
const std::vector<std::string>& router_names();

class ReplicaRouter final : public ServingSim, public SimListener {
 public:
  // Builds `replicas` engines of `deployment` on `queue`; records go to `listener`.
  ReplicaRouter(const Catalog& catalog, const DeploymentConfig& deployment, int replicas, RouterPolicy policy,
                EventQueue& queue, SimListener* listener);

  void submit(const RequestInput& r, TimeNs at_ns) override;
  void cancel(std::uint64_t request_id) override;
  [[nodiscard]] EngineLimits limits() const override { return replicas_.front()->limits(); }
  [[nodiscard]] nlohmann::json stats() const override;
  [[nodiscard]] std::size_t in_flight() const override;

  void on_token(std::uint64_t request_id, std::int64_t token_index, TimeNs t) override;
  [[nodiscard]] bool wants_tokens() const override { return listener_->wants_tokens(); }
  void on_request_done(const RequestRecord& record) override;

 private:
  [[nodiscard]] std::size_t pick(const RequestInput& r);

  RouterPolicy policy_;
  SimListener* listener_;
  std::vector<std::unique_ptr<ServingSim>> replicas_;
  std::vector<std::int64_t> outstanding_;       // per replica: routed and not yet done
  std::vector<std::uint64_t> routed_;           // per replica: requests routed (stats)
  std::unordered_map<std::uint64_t, std::size_t> replica_of_;  // live request id -> replica
  std::uint64_t next_round_robin_ = 0;
};

// The factory for run_stage.
ServingSimFactory replica_set_factory(const Catalog& catalog, const DeploymentConfig& deployment, int replicas,
                                      RouterPolicy policy);

}  // namespace servetwin
