#pragma once
// Maps an engine kind (the preset's `engine:` field) to its model. One function per engine in its
// own file; adding an engine = one entry in engine_registry.cpp.
#include <memory>
#include <string>

#include "sim/engine/engine_base.hpp"
#include "sim/engine/engine_settings.hpp"

namespace servetwin {

struct EngineBuildContext {
  EventQueue& queue;
  SimListener* listener;
  CostModel cost;
  const ModelSpec& model;
  const GpuSpec& gpu;
  EngineSettings& settings;
};

// Reads the CPU-side cost settings (per step, per layer, per sequence, CUDA graphs, custom all-reduce)
// that every engine preset may carry; cpu_layer_ns may be qualified per GPU (KEY@GPU).
EngineCostParams read_engine_cost_params(EngineSettings& settings, const GpuSpec& gpu);

// Throws ConfigError for an unknown kind, listing the known ones.
std::unique_ptr<EngineBase> build_engine(const std::string& kind, EngineBuildContext& ctx);

}  // namespace servetwin
