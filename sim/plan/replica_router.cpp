#include "sim/plan/replica_router.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

const std::vector<std::string>& router_names() {
  static const std::vector<std::string> names{"round-robin", "least-outstanding", "prefix-aware"};
  return names;
}

RouterPolicy parse_router(const std::string& name) {
  if (name == "round-robin") return RouterPolicy::kRoundRobin;
  if (name == "least-outstanding") return RouterPolicy::kLeastOutstanding;
  if (name == "prefix-aware") return RouterPolicy::kPrefixAware;
  throw ConfigError(fmt::format("--router '{}' is not allowed; allowed: {}", name, fmt::join(router_names(), ", ")));
}

std::string to_string(RouterPolicy p) {
  switch (p) {
    case RouterPolicy::kRoundRobin: return "round-robin";
    case RouterPolicy::kLeastOutstanding: return "least-outstanding";
    case RouterPolicy::kPrefixAware: return "prefix-aware";
  }
  return "?";
}

ReplicaRouter::ReplicaRouter(const Catalog& catalog, const DeploymentConfig& deployment, int replicas,
                             RouterPolicy policy, EventQueue& queue, SimListener* listener)
    : policy_(policy), listener_(listener) {
  if (replicas < 1) throw ConfigError(fmt::format("replicas {}: must be >= 1", replicas));
  for (int i = 0; i < replicas; ++i) replicas_.push_back(make_serving_sim(catalog, deployment, queue, this));
  outstanding_.assign(replicas_.size(), 0);
  routed_.assign(replicas_.size(), 0);
}

std::size_t ReplicaRouter::pick(const RequestInput& r) {
  const std::size_t k = replicas_.size();
  if (policy_ == RouterPolicy::kRoundRobin) return static_cast<std::size_t>(next_round_robin_++ % k);
  if (policy_ == RouterPolicy::kPrefixAware && r.prefix_group >= 0) return static_cast<std::size_t>(r.prefix_group) % k;
  return static_cast<std::size_t>(std::min_element(outstanding_.begin(), outstanding_.end()) - outstanding_.begin());
}

void ReplicaRouter::submit(const RequestInput& r, TimeNs at_ns) {
  // Stage drivers submit at the arrival instant (at_ns == now), so the counts are those the router
  // would see when the request reaches it.
  const std::size_t i = pick(r);
  ++outstanding_[i];
  ++routed_[i];
  replica_of_[r.id] = i;
  replicas_[i]->submit(r, at_ns);
}

void ReplicaRouter::cancel(std::uint64_t request_id) {
  const auto it = replica_of_.find(request_id);
  if (it != replica_of_.end()) replicas_[it->second]->cancel(request_id);
}

std::size_t ReplicaRouter::in_flight() const {
  std::size_t n = 0;
  for (const auto& r : replicas_) n += r->in_flight();
  return n;
}

void ReplicaRouter::on_token(std::uint64_t request_id, std::int64_t token_index, TimeNs t) {
  listener_->on_token(request_id, token_index, t);
}

void ReplicaRouter::on_request_done(const RequestRecord& record) {
  const auto it = replica_of_.find(record.request_id);
  if (it != replica_of_.end()) {
    --outstanding_[it->second];
    replica_of_.erase(it);
  }
  listener_->on_request_done(record);
}

nlohmann::json ReplicaRouter::stats() const {
  // The first replica's statistics keep the shape one engine reports (tables read batch/kv from it);
  // every replica's own statistics and routed counts follow.
  nlohmann::json j = replicas_.front()->stats();
  j["router"] = to_string(policy_);
  j["replicas"] = nlohmann::json::array();
  for (std::size_t i = 0; i < replicas_.size(); ++i) {
    j["replicas"].push_back({{"routed", routed_[i]}, {"stats", replicas_[i]->stats()}});
  }
  return j;
}

ServingSimFactory replica_set_factory(const Catalog& catalog, const DeploymentConfig& deployment, int replicas,
                                      RouterPolicy policy) {
  return [&catalog, deployment, replicas, policy](EventQueue& queue, SimListener* listener) -> std::unique_ptr<ServingSim> {
    return std::make_unique<ReplicaRouter>(catalog, deployment, replicas, policy, queue, listener);
  };
}

}  // namespace servetwin
