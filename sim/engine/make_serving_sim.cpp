// Engine factory: builds the cost model and the engine named by the deployment's preset.
#include <memory>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_registry.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/engine/serving_sim.hpp"

namespace servetwin {

EngineCostParams read_engine_cost_params(EngineSettings& settings, const GpuSpec& gpu, const HardwareProfile& profile) {
  // CPU-side costs are properties of the serving stack, hence engine settings.
  EngineCostParams cpu;
  cpu.cpu_step_ns = settings.number("cpu_step_ns", 0, 0, 1e9);
  // Python dispatch per layer depends on the host CPU, so it may be set per GPU platform.
  cpu.cpu_layer_ns = settings.qualified_number("cpu_layer_ns", gpu.name, 0, 0, 1e8);
  cpu.cpu_seq_ns = settings.number("cpu_seq_ns", 0, 0, 1e8);
  cpu.graph_decode = settings.flag("cuda_graph_decode", false);
  cpu.custom_allreduce_max_bytes = settings.number("custom_allreduce_max_bytes", 0, 0, 1e12);
  // KV-cache dtype (vLLM --kv-cache-dtype, TensorRT-LLM kv_cache_quant_algo): fp8 halves the bytes
  // every decode step reads and doubles the tokens the cache holds.
  // Software era on this GPU (e.g. 2023 kernels on an H100), so it may be set per GPU as well.
  cpu.compute_eff_scale = settings.qualified_number("compute_eff_scale", gpu.name, 1, 0.05, 1);
  cpu.kv_elem_bytes = settings.choice("kv_cache_dtype", "auto", {"auto", "fp16", "bf16", "fp8"}) == "fp8" ? 1.0 : 2.0;
  // Eager engines dispatch every layer's operations from Python (sim/cost/eager_overhead.hpp) at the
  // host CPU's cost per operation (hardware profile); CUDA-graph engines replay and pay none of it.
  if (!cpu.graph_decode) {
    cpu.eager.host_op_ns = settings.qualified_number("host_op_ns", gpu.name, profile.host_op_ns.value, 0, 1e7);
    cpu.eager.allreduce_host_ns = settings.number("allreduce_host_ns", kNcclCallHostNs, 0, 1e7);
  }
  return cpu;
}

std::unique_ptr<ServingSim> build_serving_sim(const Catalog& catalog, const EngineSetup& setup, EventQueue& queue,
                                              SimListener* listener) {
  const ModelSpec& model = catalog.model(setup.model);
  const GpuSpec& gpu = catalog.gpu(setup.gpu);
  const HardwareProfile& profile = catalog.profile(gpu.name);
  const InterconnectSpec& ic = catalog.interconnect(setup.interconnect);
  const EngineSpec& preset = catalog.engine(setup.engine_preset);
  EngineSettings settings(preset, setup.engine_set);

  const EngineCostParams cpu = read_engine_cost_params(settings, gpu, profile);
  CostModel cost(model, gpu, profile, ic, setup.tp, setup.dtype, cpu);

  EngineBuildContext ctx{queue, listener, std::move(cost), model, gpu, settings};
  std::unique_ptr<EngineBase> engine = build_engine(preset.engine, preset.name, ctx);
  // Only presets that carry it resolve it (a probe fit's), so every shipped preset's outputs stay as they were.
  if (settings.has("step_time_ratios")) {
    engine->set_step_time_spread(
        StepTimeSpread::parse(settings.text("step_time_ratios", ""), "engine setting step_time_ratios"));
  }
  settings.finish();
  engine->set_resolved_settings(settings.resolved());
  return engine;
}

}  // namespace servetwin
