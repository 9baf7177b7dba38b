#pragma once
// Pareto fronts of a plan over every simulated single-replica load point (the rate search's probes):
//   throughput: output tok/s per GPU (higher is better) against tok/s per user = 1000 / mean TPOT
//               (interactivity, higher is better) — the InferenceMAX-style trade-off curve;
//   cost:       USD per 1M output tokens at that load, the replica's share of its instance price after
//               the discount (lower is better), against E2E p99 latency (lower is better).
// The recommended point is the recommended candidate's probe at its maximum sustainable rate.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

namespace servetwin {

struct FrontPoint {
  double x = 0, y = 0;
};

// on_front[i]: no other point is at least as good in both and better in one. `maximize` per axis.
std::vector<bool> pareto_front(const std::vector<FrontPoint>& points, bool maximize_x, bool maximize_y);

// pareto_throughput.csv and pareto_cost.csv.
void write_pareto_csvs(const std::filesystem::path& dir, const nlohmann::json& plan);

}  // namespace servetwin
