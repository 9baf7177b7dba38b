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

// Throws ConfigError for an unknown kind, listing the known ones.
std::unique_ptr<EngineBase> build_engine(const std::string& kind, EngineBuildContext& ctx);

}  // namespace servetwin
