#include "sim/plan/candidate_plan.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/serving_sim.hpp"
#include "sim/interval/stage_interval.hpp"
#include "sim/plan/pricing.hpp"

namespace servetwin {
namespace {

nlohmann::json rejected(nlohmann::json j, const char* kind, const std::string& reason) {
  j["status"] = "rejected";
  j["reason_kind"] = kind;
  j["reason"] = reason;
  return j;
}

// Empty when `replicas` fit the limits; else the reason and its kind.
std::pair<const char*, std::string> over_limits(const PlanInputs& in, const InstanceSpec& inst, int gpus_per_replica,
                                                int replicas) {
  const ReplicaSetPrice p = price_replica_set(inst, gpus_per_replica, replicas, in.discount, 0, 0);
  if (in.max_gpus > 0 && p.gpus > in.max_gpus) {
    return {"max_gpus", fmt::format("over --max-gpus: {} replicas need {} x {} = {} GPUs > {}", replicas, p.instances,
                                    inst.name, p.gpus, in.max_gpus)};
  }
  if (p.usd_per_hour_discounted > in.budget_usd_per_hour) {
    return {"budget", fmt::format("over budget: {} replicas need {} x {} = {:.2f} USD/h > {:g} USD/h", replicas,
                                  p.instances, inst.name, p.usd_per_hour_discounted, in.budget_usd_per_hour)};
  }
  return {nullptr, ""};
}

// The target as the load kind names it, for reasons: "6 req/s" or "40 users".
std::string target_text(const PlanInputs& in) {
  return plans_users(in) ? fmt::format("{} users", in.target_users) : fmt::format("{:g} req/s", in.target_rate_per_s);
}

// One probe of the whole target load on `replicas` replicas behind the router.
// A probe as plan.json lists it, with its prediction interval (metric names as in predict's summary).
nlohmann::json probe_json(const Catalog& catalog, const PlanInputs& in, const Scenario& s, const Probe& p) {
  nlohmann::json j = to_json(p);
  if (!in.intervals) return j;
  const nlohmann::json metrics = {{"throughput_output_tok_s", p.output_tok_s}, {"ttft_p99_ms", p.ttft_p99_ms},
                                  {"tpot_mean_ms", p.tpot_mean_ms}, {"e2e_p99_ms", p.e2e_p99_ms}};
  j["interval"] = interval_json(*in.intervals, stage_regime(catalog, s.deployment, p.load_shape), metrics, nullptr);
  return j;
}

Probe probe_target(const Catalog& catalog, const PlanInputs& in, const Scenario& s, int replicas) {
  return plans_users(in) ? run_users_probe(catalog, s, in.target_users, replicas, in.router, in.slo)
                         : run_probe(catalog, s, in.target_rate_per_s, replicas, in.router, in.slo);
}

// Sizes the replica set for the target load; fills replicas / at_target / price or rejects.
// `max_per_replica` is the search's result: req/s, or users for plan --users.
nlohmann::json size_replicas(const Catalog& catalog, const PlanInputs& in, const Scenario& s, nlohmann::json j,
                             double max_per_replica) {
  const InstanceSpec& inst = catalog.instance(s.deployment.instance);
  const double target = plans_users(in) ? static_cast<double>(in.target_users) : in.target_rate_per_s;
  const int first = std::max(1, static_cast<int>(std::ceil(target / max_per_replica - 1e-9)));
  std::optional<Probe> best;
  std::string last_violations;  // the last sizing probe's, for the reason below
  for (int k = first; k <= first + in.max_extra_replicas && !best; ++k) {
    const auto [kind, why] = over_limits(in, inst, s.deployment.num_gpus, k);
    if (kind != nullptr) return rejected(std::move(j), kind, why);
    const Probe p = probe_target(catalog, in, s, k);
    nlohmann::json probe = probe_json(catalog, in, s, p);
    last_violations = probe.value("violations", std::string());
    j["sizing_probes"].push_back(std::move(probe));
    if (p.met) best = p;
  }
  if (!best) {
    const std::string reason = fmt::format("SLO not met at {} with {} to {} replicas ({})", target_text(in), first,
                                           first + in.max_extra_replicas, last_violations);
    return rejected(std::move(j), "target", reason);
  }
  if (best->replicas == first && first > 1) {  // pooling behind the router may carry it on fewer
    const Probe p = probe_target(catalog, in, s, first - 1);
    j["sizing_probes"].push_back(probe_json(catalog, in, s, p));
    if (p.met) best = p;
  }
  j["replicas"] = best->replicas;
  j["at_target"] = to_json(*best);
  j["price"] = to_json(price_replica_set(inst, s.deployment.num_gpus, best->replicas, in.discount, best->output_tok_s,
                                         best->input_tok_s));
  j["status"] = "ok";
  return j;
}

// The search's result under the load kind's names: max_rate_* (req/s) or max_users_* (users).
void record_search(nlohmann::json& j, const PlanInputs& in, const RateSearch& search) {
  const nlohmann::json fail = search.capped ? nlohmann::json(nullptr) : nlohmann::json(search.fail_rate_per_s);
  if (plans_users(in)) {
    j["max_users"] = static_cast<std::int64_t>(search.max_rate_per_s);
    j["max_users_bracket"] = {static_cast<std::int64_t>(search.max_rate_per_s),
                              search.capped ? nlohmann::json(nullptr) : nlohmann::json(static_cast<std::int64_t>(search.fail_rate_per_s))};
    j["max_users_capped"] = search.capped;
    return;
  }
  j["max_rate_per_s"] = search.max_rate_per_s;
  j["max_rate_bracket"] = {search.max_rate_per_s, fail};
  j["max_rate_capped"] = search.capped;
  const auto interval = max_rate_prediction_interval(search);
  j["max_rate_interval"] = interval ? nlohmann::json{interval->low_per_s, interval->high_per_s} : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json plan_candidate(const Catalog& catalog, const PlanInputs& in, const DeploymentConfig& candidate) {
  nlohmann::json j;
  j["deployment"] = to_json(candidate);
  j["sizing_probes"] = nlohmann::json::array();
  Scenario s = in.traffic;
  s.deployment = candidate;
  s.load.type = plans_users(in) ? "closed" : "open";
  s.load.levels = {plans_users(in) ? static_cast<double>(in.users_search.start_users) : in.search.start_rate_per_s};
  try {
    s = resolve_scenario(catalog, s);
  } catch (const ConfigError& e) {
    return rejected(std::move(j), "invalid", e.what());
  }
  j["deployment"] = to_json(s.deployment);
  const InstanceSpec& inst = catalog.instance(s.deployment.instance);
  if (inst.on_demand.has_price) {  // one replica's share of its instance, for the cost Pareto front
    j["replica_usd_per_hour"] = inst.on_demand.usd_per_hour * (1.0 - in.discount) * s.deployment.num_gpus / inst.gpu_count;
  }
  RateSearch search;
  try {
    search = plans_users(in) ? find_max_users(catalog, s, in.slo, in.users_search) : find_max_rate(catalog, s, in.slo, in.search);
  } catch (const DoesNotFitError& e) {
    return rejected(std::move(j), "memory", std::string("does not fit in memory: ") + e.what());
  }
  j["probes"] = nlohmann::json::array();
  for (const auto& p : search.probes) j["probes"].push_back(probe_json(catalog, in, s, p));
  record_search(j, in, search);
  if (!search.found) return rejected(std::move(j), "slo", search.reason);
  if (!inst.on_demand.has_price) return rejected(std::move(j), "no_price", "no on-demand price for " + inst.name + " in the catalog");
  return size_replicas(catalog, in, s, std::move(j), search.max_rate_per_s);
}

}  // namespace servetwin
