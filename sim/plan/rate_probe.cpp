#include "sim/plan/rate_probe.hpp"

namespace servetwin {
namespace {

// Runs `stage` (its load already set) on the replica set and checks the SLO.
Probe run_stage_probe(const Catalog& catalog, const Scenario& s, const Scenario& stage, int replicas,
                      RouterPolicy router, const PlanSlo& slo) {
  const ServingSimFactory factory = replicas > 1 ? replica_set_factory(catalog, s.deployment, replicas, router)
                                                 : ServingSimFactory{};
  const StageResult r = run_stage(catalog, stage, 0, /*keep_records=*/slo.per_request, factory);
  const nlohmann::json metrics = r.metrics.to_json();
  const SloCheck check = check_plan_slo(slo, metrics, r.records);
  Probe p;
  p.replicas = replicas;
  p.met = check.met;
  p.violations = check.violations;
  p.goodput = check.goodput;
  p.output_tok_s = r.metrics.throughput_output_tok_s;
  p.input_tok_s = r.metrics.throughput_total_tok_s - r.metrics.throughput_output_tok_s;
  p.ttft_p99_ms = r.metrics.ttft_ms.p99;
  p.tpot_mean_ms = r.metrics.tpot_ms.mean;
  p.e2e_p99_ms = r.metrics.e2e_ms.p99;
  p.rate_per_s = r.metrics.request_rate_achieved;  // open loops overwrite it with the offered rate
  p.load_shape = r.load_shape;
  return p;
}

}  // namespace

Probe run_probe(const Catalog& catalog, const Scenario& s, double rate_per_s, int replicas, RouterPolicy router,
                const PlanSlo& slo) {
  Scenario stage = s;
  stage.load.type = "open";
  stage.load.levels = {rate_per_s};
  Probe p = run_stage_probe(catalog, s, stage, replicas, router, slo);
  p.rate_per_s = rate_per_s;
  return p;
}

Probe run_users_probe(const Catalog& catalog, const Scenario& s, std::int64_t users, int replicas, RouterPolicy router,
                      const PlanSlo& slo) {
  Scenario stage = s;
  stage.load.type = "closed";
  stage.load.levels = {static_cast<double>(users)};
  Probe p = run_stage_probe(catalog, s, stage, replicas, router, slo);
  p.users = users;
  return p;
}

nlohmann::json to_json(const Probe& p) {
  nlohmann::json j = {{"rate_per_s", p.rate_per_s},     {"replicas", p.replicas},         {"met", p.met},
                      {"goodput", p.goodput},           {"output_tok_s", p.output_tok_s}, {"input_tok_s", p.input_tok_s},
                      {"ttft_p99_ms", p.ttft_p99_ms},   {"tpot_mean_ms", p.tpot_mean_ms}, {"e2e_p99_ms", p.e2e_p99_ms}};
  if (!p.violations.empty()) j["violations"] = p.violations;
  if (p.users > 0) j["users"] = p.users;
  return j;
}

}  // namespace servetwin
