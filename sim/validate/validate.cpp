// `servetwin validate --data`: read the CSVs, map every row by the policy, simulate the mapped rows in
// parallel, report. The policy is data (configs/validation); the steps live in row_*.cpp and
// validation_report.cpp.
#include "sim/validate/validate.hpp"

#include <algorithm>

#include "sim/catalog/catalog.hpp"
#include "sim/plan/replica_router.hpp"
#include "sim/core/parallel_for.hpp"
#include "sim/validate/validation_report.hpp"

namespace servetwin {
namespace {

// Columns of the file's header that validate neither compares nor knows as descriptive.
std::vector<std::string> columns_not_compared(const ValidationRow& first) {
  std::vector<std::string> out;
  for (const auto& cell : first.cells) {
    const std::string& col = cell.first;
    auto known = [&col](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), col) != v.end(); };
    if (!known(validation_metric_columns()) && !known(extra_metric_columns()) && !known(descriptive_columns())) {
      out.push_back(col);
    }
  }
  return out;
}

}  // namespace

ValidationPolicy load_checked_policy(const Catalog& catalog, const std::filesystem::path& policy_dir) {
  const auto dir = policy_dir.empty() ? default_validation_policy_dir(catalog) : policy_dir;
  ValidationPolicy policy = load_validation_policy(dir);
  check_policy_against_catalog(policy, catalog, dir);
  return policy;
}

nlohmann::json run_validation(const Catalog& catalog, const ValidateOptions& opts) {
  const ValidationPolicy policy = load_checked_policy(catalog, opts.policy_dir);
  ValidationInputs in;
  for (const auto& p : opts.data) {
    auto rows = read_validation_csv(p);
    in.files.push_back(p.filename().string());
    if (!rows.empty()) in.not_compared[p.filename().string()] = columns_not_compared(rows.front());
    const auto dir = p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
    for (auto& r : rows) {
      ValidationItem it;
      it.map = map_row(catalog, policy, r, dir);
      it.row = std::move(r);
      in.items.push_back(std::move(it));
    }
  }
  parallel_for(in.items.size(), opts.jobs, [&](std::size_t i) {
    ValidationItem& it = in.items[i];
    if (!it.map.scenario) return;
    try {
      // Several replicas: the planner's replica set behind a round-robin router, under the row's whole load.
      const ServingSimFactory replicas =
          it.map.replicas > 1 ? replica_set_factory(catalog, it.map.scenario->deployment, it.map.replicas,
                                                    RouterPolicy::kRoundRobin)
                              : ServingSimFactory{};
      it.result = run_stage(catalog, *it.map.scenario, 0, false, replicas);
      it.regime = stage_regime(catalog, it.map.scenario->deployment, it.result->load_shape);
    } catch (const std::exception& e) {
      it.run_error = e.what();
    }
  });
  return validation_report(in);
}

}  // namespace servetwin
