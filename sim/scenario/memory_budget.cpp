#include "sim/scenario/memory_budget.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/serving_sim.hpp"

namespace servetwin {
namespace {

std::string gb(double bytes) { return fmt::format("{:.2f} GB", bytes / 1e9); }

// The engine's admission limit (requests beyond it are rejected); 0 when it has none or the
// deployment cannot be built (the run reports that itself).
std::int64_t admission_limit(const Catalog& catalog, const Scenario& s) {
  try {
    EventQueue q;
    return make_serving_sim(catalog, s.deployment, q, nullptr)->limits().max_concurrent_requests;
  } catch (const std::exception&) {
    return 0;
  }
}

void check_retry_storm(const Catalog& catalog, const Scenario& s) {
  if (s.load.type != "closed" || s.load.levels.empty()) return;
  const double users = *std::max_element(s.load.levels.begin(), s.load.levels.end());
  const std::int64_t limit = admission_limit(catalog, s);
  if (limit <= 0 || users <= static_cast<double>(limit)) return;
  const double retries = (users - static_cast<double>(limit)) * s.duration_s * 1e9 / static_cast<double>(kRejectRetryNs);
  if (retries > kMaxRejectedRetriesPerStage) {
    throw ConfigError(fmt::format(
        "'{}': {:g} users against the engine's admission limit of {} would simulate ~{:.2g} rejected retries "
        "(each user above the limit retries every {} ms for {:g} s; at most {:g} per stage); lower --concurrency "
        "or --duration",
        s.name, users, limit, retries, kRejectRetryNs / kNsPerMs, s.duration_s, kMaxRejectedRetriesPerStage));
  }
}

}  // namespace

double default_memory_budget_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  constexpr double kDefaultCapBytes = 1e9;
  if (pages <= 0 || page_size <= 0) return kDefaultCapBytes;
  return std::min(kDefaultCapBytes, static_cast<double>(pages) * static_cast<double>(page_size) / 4.0);
}

double predicted_stage_bytes(const Scenario& s, std::size_t stage) {
  if (s.load.type == "closed") return s.load.levels.at(stage) * kBytesPerClosedLoopUser;
  double n = 0;
  if (s.load.type == "trace") {
    n = static_cast<double>(s.trace_rows.size());  // a trace read at run time is bounded by kTraceRows
  } else {
    n = std::ceil(s.load.levels.at(stage) * s.duration_s);
  }
  if (s.max_requests > 0) n = std::min(n, static_cast<double>(s.max_requests));
  return n * kBytesPerStageRequest;
}

void apply_memory_budget(const Catalog& catalog, std::vector<Scenario>& scenarios, int jobs, double budget_bytes) {
  for (const auto& s : scenarios) check_retry_storm(catalog, s);
  struct StageSize {
    double bytes;
    std::size_t scenario, stage;
  };
  std::vector<StageSize> sizes;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    for (std::size_t k = 0; k < scenarios[i].load.levels.size(); ++k) {
      sizes.push_back({predicted_stage_bytes(scenarios[i], k), i, k});
    }
  }
  std::sort(sizes.begin(), sizes.end(), [](const StageSize& a, const StageSize& b) { return a.bytes > b.bytes; });
  const std::size_t parallel = std::min(sizes.size(), static_cast<std::size_t>(std::max(1, jobs)));
  double peak = kBaseProcessBytes;
  for (std::size_t k = 0; k < parallel; ++k) peak += sizes[k].bytes;
  if (peak > budget_bytes && !sizes.empty()) {
    const StageSize& big = sizes.front();
    const Scenario& s = scenarios[big.scenario];
    throw ConfigError(fmt::format(
        "run predicted to need {} (largest: stage {} of '{}', {}; {} stage(s) at once), more than --max-memory {}; "
        "shorten --duration, lower --rate/--concurrency, set --requests or --jobs, or raise --max-memory",
        gb(peak), big.stage, s.name, gb(big.bytes), parallel, gb(budget_bytes)));
  }
  // Each running stage may use its share of what is left after the fixed cost.
  const double share = (budget_bytes - kBaseProcessBytes) / static_cast<double>(std::max<std::size_t>(1, parallel));
  const auto cap = static_cast<std::int64_t>(std::max(1.0, share / kBytesPerStageRequest));
  for (auto& s : scenarios) s.max_stage_requests = cap;
}

}  // namespace servetwin
