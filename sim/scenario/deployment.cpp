#include "sim/scenario/deployment.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/weight_datapath.hpp"

namespace servetwin {

bool runs_on_server_interconnect(const GpuSpec& gpu, const DeploymentConfig& d) {
  return d.instance.empty() && d.interconnect.empty() && d.num_gpus > 1 && !gpu.server_interconnect.empty();
}

DeploymentConfig resolve_deployment(const Catalog& catalog, DeploymentConfig d) {
  if (d.model.empty()) throw ConfigError("--model: required; see `servetwin list models`");
  const ModelSpec& model = catalog.model(d.model);
  d.model = model.name;
  if (!d.instance.empty()) {
    const InstanceSpec& inst = catalog.instance(d.instance);
    d.instance = inst.name;
    if (!d.gpu.empty() && catalog.gpu(d.gpu).name != inst.gpu) {
      throw ConfigError(fmt::format("--gpu {} conflicts with --instance {} (which has {})", d.gpu, inst.name, inst.gpu));
    }
    d.gpu = inst.gpu;
    if (d.num_gpus == 0) d.num_gpus = d.tp > 0 ? d.tp : inst.gpu_count;
    if (d.num_gpus > inst.gpu_count) {
      throw ConfigError(fmt::format("--num-gpus {} exceeds the {} GPUs of {}", d.num_gpus, inst.gpu_count, inst.name));
    }
    d.interconnect = inst.interconnect;
  } else {
    if (d.gpu.empty()) throw ConfigError("one of --instance or --gpu is required; see `servetwin list instances`");
    const GpuSpec& gpu = catalog.gpu(d.gpu);
    d.gpu = gpu.name;
    if (d.num_gpus == 0) d.num_gpus = d.tp > 0 ? d.tp : 1;
    if (runs_on_server_interconnect(gpu, d)) {
      // The GPU names the interconnect of a server of its kind (configs/gpus: server_interconnect), where
      // its cloud instances are not what such a server usually is (L40S: AWS g6e has no PCIe P2P).
      d.interconnect = gpu.server_interconnect;
    } else if (d.num_gpus > 1 && d.interconnect.empty()) {
      // The smallest catalog instance with this GPU and enough GPUs supplies the interconnect.
      const InstanceSpec* best = nullptr;
      for (const auto& [name, inst] : catalog.instances) {
        if (inst.gpu != d.gpu || inst.gpu_count < d.num_gpus) continue;
        if (best == nullptr || inst.gpu_count < best->gpu_count) best = &inst;
      }
      if (best == nullptr) {
        throw ConfigError(fmt::format("no catalog instance has {} x {}; give --instance", d.num_gpus, d.gpu));
      }
      d.interconnect = best->interconnect;
    }
  }
  if (d.interconnect.empty()) d.interconnect = "none";
  if (d.tp == 0) d.tp = d.num_gpus;
  if (d.tp < 1 || d.tp != d.num_gpus) {
    throw ConfigError(fmt::format("--tp {} with {} GPUs: only TP = number of GPUs is modelled (no PP/DP)", d.tp, d.num_gpus));
  }
  if (model.num_attention_heads % d.tp != 0) {
    throw ConfigError(fmt::format("--tp {}: {} has {} attention heads, not divisible by TP", d.tp, model.name,
                                  model.num_attention_heads));
  }
  const auto& dtypes = weight_dtypes();
  if (std::find(dtypes.begin(), dtypes.end(), d.dtype) == dtypes.end()) {
    throw ConfigError(fmt::format("--dtype '{}' is not allowed; allowed: {}", d.dtype, fmt::join(dtypes, ", ")));
  }
  d.engine = catalog.engine(d.engine).name;  // validates the name
  return d;
}

std::unique_ptr<ServingSim> make_serving_sim(const Catalog& catalog, const DeploymentConfig& deployment,
                                             EventQueue& queue, SimListener* listener) {
  const DeploymentConfig d = resolve_deployment(catalog, deployment);
  const EngineSetup setup{d.model, d.gpu, d.interconnect, d.tp, d.engine, d.engine_set, d.dtype};
  return build_serving_sim(catalog, setup, queue, listener);
}

nlohmann::json to_json(const DeploymentConfig& d) {
  return {{"model", d.model},         {"instance", d.instance}, {"gpu", d.gpu},         {"interconnect", d.interconnect},
          {"num_gpus", d.num_gpus},   {"tp", d.tp},             {"engine", d.engine},   {"engine_set", d.engine_set},
          {"dtype", d.dtype}};
}

}  // namespace servetwin
