#include "sim/plan/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "sim/catalog/catalog.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/plan/work_pool.hpp"

namespace servetwin {

std::vector<std::size_t> rank_plans(const nlohmann::json& candidates) {
  std::vector<std::size_t> ranked;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i]["status"] == "ok") ranked.push_back(i);
  }
  auto key = [&](std::size_t i) {
    const auto& p = candidates[i]["price"];
    return std::make_pair(p["usd_per_hour"].get<double>(), p["usd_per_1m_output_tok"].get<double>());
  };
  std::stable_sort(ranked.begin(), ranked.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  return ranked;
}

nlohmann::json plan_inputs_json(const PlanInputs& in) {
  nlohmann::json j = scenario_to_json(in.traffic);
  j.erase("deployment");
  j.erase("load");
  j.erase("name");
  j["arrival"] = in.traffic.load.arrival;
  j["target_rate_per_s"] = in.target_rate_per_s;
  j["slo"] = in.slo.text;
  j["router"] = to_string(in.router);
  j["rate_search"] = {{"start_rate_per_s", in.search.start_rate_per_s}, {"min_rate_per_s", in.search.min_rate_per_s},
                      {"max_rate_per_s", in.search.max_rate_per_s}, {"tolerance_rel", in.search.tolerance_rel}};
  j["budget_usd_per_hour"] = std::isfinite(in.budget_usd_per_hour) ? nlohmann::json(in.budget_usd_per_hour) : nlohmann::json(nullptr);
  j["max_gpus"] = in.max_gpus > 0 ? nlohmann::json(in.max_gpus) : nlohmann::json(nullptr);
  j["discount"] = in.discount;
  if (plans_users(in)) {  // closed loop: users replace the rate (rate outputs keep their exact keys)
    j.erase("target_rate_per_s");
    j.erase("rate_search");
    j.erase("arrival");  // a closed loop has no arrival process: each user sends when its last request ends
    j["load_kind"] = "users";
    j["target_users"] = in.target_users;
    j["users_search"] = {{"start_users", in.users_search.start_users},
                         {"max_users", in.users_search.max_users},
                         {"tolerance_rel", in.users_search.tolerance_rel}};
  }
  return j;
}

namespace {

// Why nothing is recommended: the count of each rejection kind.
std::string empty_reason(const nlohmann::json& candidates) {
  if (candidates.empty()) return "no candidates";
  std::map<std::string, int> kinds;
  for (const auto& c : candidates) ++kinds[c["reason_kind"].get<std::string>()];
  std::string out = "no candidate meets the SLO at the target within the limits:";
  for (const auto& [k, n] : kinds) out += fmt::format(" {} {},", n, k);
  out.pop_back();
  return out;
}

}  // namespace

PlanRun run_plan(const Catalog& catalog, const PlanInputs& in, const std::vector<DeploymentConfig>& candidates, int jobs,
                 bool progress) {
  nlohmann::json list = nlohmann::json::array();
  ProgressBar bar("planning", candidates.size(), progress);
  const bool root = run_ordered(
      0, candidates.size(), jobs,
      [&](std::size_t i) {
        nlohmann::json c = plan_candidate(catalog, in, candidates[i]);
        c["index"] = i;
        return c.dump();
      },
      [&](std::size_t, std::string&& text) { list.push_back(nlohmann::json::parse(text)); }, &bar);
  bar.finish();
  PlanRun run;
  run.root = root;
  if (!root) return run;
  nlohmann::json& r = run.result;
  r["schema_version"] = kSummarySchemaVersion;
  r["kind"] = "plan";
  r["inputs"] = plan_inputs_json(in);
  if (!plans_users(in)) r["max_rate_interval_note"] = "every probe carries its prediction interval (probes[].interval); no interval on the searched maximum rate is derived yet: max_rate_interval is null";
  const auto ranked = rank_plans(list);
  r["ranked"] = ranked;
  r["recommended"] = ranked.empty() ? nlohmann::json(nullptr) : nlohmann::json(ranked.front());
  if (ranked.empty()) r["empty_reason"] = empty_reason(list);
  r["candidates"] = std::move(list);
  return run;
}

}  // namespace servetwin
