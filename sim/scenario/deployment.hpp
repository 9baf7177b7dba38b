#pragma once
// What is being served and on what: the part of a scenario that builds an engine model.
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/engine/serving_sim.hpp"

namespace servetwin {

class Catalog;
struct GpuSpec;

struct DeploymentConfig {
  std::string model;                              // catalog name or alias
  std::string instance;                           // AWS instance name; empty when gpu is given
  std::string gpu;                                // GPU name; derived from instance when empty
  std::string interconnect;                       // derived from the instance (or chosen for --gpu)
  int num_gpus = 0;                               // 0 = all GPUs of the instance (or tp)
  int tp = 0;                                     // 0 = num_gpus
  std::string engine = "tgis-rhoai-2024q1";       // engine preset name (configs/engines)
  std::map<std::string, std::string> engine_set;  // --engine-set K=V overrides
  std::string dtype = "fp16";                     // weights/activations: fp16 | bf16 | fp8
};

// Fills defaults from the catalog (gpu from instance, tp from GPU count) and validates names and
// ranges. Throws ConfigError naming the field and the allowed values.
DeploymentConfig resolve_deployment(const Catalog& catalog, DeploymentConfig d);

// Whether resolve_deployment puts `d` on its GPU's server interconnect (configs/gpus: server_interconnect):
// a multi-GPU deployment naming neither an instance nor an interconnect, on a GPU that names one.
bool runs_on_server_interconnect(const GpuSpec& gpu, const DeploymentConfig& d);

nlohmann::json to_json(const DeploymentConfig& d);

// Resolves the deployment and builds its engine model on `queue` (build_serving_sim). Throws
// ConfigError when a name or setting is invalid, DoesNotFitError when the model does not fit.
std::unique_ptr<ServingSim> make_serving_sim(const Catalog& catalog, const DeploymentConfig& deployment,
                                             EventQueue& queue, SimListener* listener);

}  // namespace servetwin
