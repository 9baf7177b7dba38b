#include "sim/interval/stage_regime.hpp"

#include "sim/catalog/catalog.hpp"
#include "sim/catalog/model_params.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/scenario/deployment.hpp"

namespace servetwin {

const char* load_bin(const LoadShape& shape) {
  if (shape.all_arrived_at_once) return "batch";
  if (shape.queue_wait_share >= kSaturatedShare) return "saturated";
  if (shape.queue_wait_share >= kQueuedShare) return "queued";
  return "light";
}

nlohmann::json StageRegime::to_json() const {
  return {{"load", load},     {"queue_wait_share", queue_wait_share}, {"cuda_graphs", cuda_graphs},
          {"gpu", gpu},       {"engine", engine},                     {"model_params_b", model_params_b}};
}

StageRegime StageRegime::from_json(const nlohmann::json& j) {
  StageRegime r;
  r.load = j.at("load").get<std::string>();
  r.queue_wait_share = j.at("queue_wait_share").get<double>();
  r.cuda_graphs = j.at("cuda_graphs").get<bool>();
  r.gpu = j.at("gpu").get<std::string>();
  r.engine = j.at("engine").get<std::string>();
  r.model_params_b = j.at("model_params_b").get<double>();
  return r;
}

StageRegime stage_regime(const Catalog& catalog, const DeploymentConfig& deployment, const LoadShape& shape) {
  StageRegime r;
  r.load = load_bin(shape);
  r.queue_wait_share = shape.queue_wait_share;
  r.gpu = deployment.gpu;
  r.engine = deployment.engine;
  r.model_params_b = parameter_count(catalog.model(deployment.model)) / 1e9;
  // The same key and default the engine factory reads (sim/engine/make_serving_sim.cpp), overrides included.
  EngineSettings settings(catalog.engine(deployment.engine), deployment.engine_set);
  r.cuda_graphs = settings.flag("cuda_graph_decode", false);
  return r;
}

}  // namespace servetwin
