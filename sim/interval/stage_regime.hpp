#pragma once
// The regime a prediction was made in, which is what its error depends on (issue 17 item 4): load relative to
// the queueing knee, eager vs CUDA-graph execution, the GPU, engine preset and model size. Validate stores it on
// every row (the residual table keeps it per residual); predict, sweep and plan compute it for every stage.
#include <nlohmann/json.hpp>
#include <string>

#include "sim/metrics/load_shape.hpp"

namespace servetwin {

class Catalog;
struct DeploymentConfig;

// Load bins, by the share of TTFT spent queueing (LoadShape::queue_wait_share):
//   batch     every request arrived at once (offline, static batch): queueing is the design, not overload
//   light     share < 0.5: below the knee, TTFT is mostly prefill and API time
//   queued    0.5 <= share < 0.9: at the knee
//   saturated share >= 0.9: past the knee, TTFT is mostly waiting
// 0.5 = half the TTFT is queueing; 0.9 = queueing dominates TTFT tenfold over service.
constexpr double kQueuedShare = 0.5;
constexpr double kSaturatedShare = 0.9;
const char* load_bin(const LoadShape& shape);

struct StageRegime {
  std::string load = "light";  // load_bin
  double queue_wait_share = 0;
  bool cuda_graphs = false;    // the preset replays CUDA graphs for decode (cuda_graph_decode), else eager
  std::string gpu;             // catalog GPU name
  std::string engine;          // engine preset name
  double model_params_b = 0;   // all weights, billions (sim/catalog/model_params.hpp)

  [[nodiscard]] nlohmann::json to_json() const;
  static StageRegime from_json(const nlohmann::json& j);  // throws nlohmann::json::exception on a bad shape
};

StageRegime stage_regime(const Catalog& catalog, const DeploymentConfig& deployment, const LoadShape& shape);

}  // namespace servetwin
