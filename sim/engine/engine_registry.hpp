#pragma once
// Engine registry: an engine kind (a preset's `engine:` field, configs/engines/*.yaml) names one
// engine model, which registers itself from its own source file; nothing else in the tree names it.
//
// How registration survives static linking. sim/ is a static library, and a linker drops every
// archive member nothing references, so a file whose only link to the program is a static
// registration object would silently vanish (and its engine with it). Engines inside sim/ are
// therefore registered through an explicit list that CMake generates from the file names
// (sim/CMakeLists.txt: every sim/engine/<stem>_engine.cpp defines `register_<stem>_engine`, and the
// generated builtin_engines.cpp calls them all in name order): the registry references each engine,
// so each is linked, and the order is deterministic. Code linked into an executable as an object
// file, not an archive member (a test's toy engine, tests/sim/toy_engine/), may use a static
// EngineRegistration instead.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/engine/engine_base.hpp"
#include "sim/engine/engine_settings.hpp"

namespace servetwin {

struct EngineBuildContext {
  EventQueue& queue;
  SimListener* listener = nullptr;
  CostModel cost;
  const ModelSpec& model;
  const GpuSpec& gpu;
  EngineSettings& settings;
};

struct EngineKind {
  std::string name;     // the preset's `engine:` value
  std::string summary;  // one line for error messages and docs
  std::function<std::unique_ptr<EngineBase>(EngineBuildContext&)> build;
};

class EngineRegistry {
 public:
  // Throws std::logic_error when the name is taken: two engines may not share a kind.
  void add(EngineKind kind);
  [[nodiscard]] const EngineKind* find(const std::string& name) const;
  [[nodiscard]] std::vector<std::string> names() const;  // sorted

 private:
  std::map<std::string, EngineKind> kinds_;
};

// The process-wide registry, with the built-in engines registered on first use.
EngineRegistry& engine_registry();

// Static-initialisation helper for engines linked as object files (see the top of this header).
struct EngineRegistration {
  explicit EngineRegistration(EngineKind kind) { engine_registry().add(std::move(kind)); }
};

// Defined in the generated builtin_engines.cpp: calls every sim/engine/*_engine.cpp's registration.
void register_builtin_engines(EngineRegistry& registry);

// Reads the CPU-side cost settings (per step, per layer, per sequence, CUDA graphs, custom all-reduce)
// that every engine preset may carry; cpu_layer_ns and host_op_ns may be qualified per GPU (KEY@GPU). Eager
// presets (cuda_graph_decode false) get the platform's host cost per operation from `profile`.
EngineCostParams read_engine_cost_params(EngineSettings& settings, const GpuSpec& gpu, const HardwareProfile& profile);

// Builds the engine of `kind`; throws ConfigError for a kind nobody registered, naming the preset
// and the registered kinds.
std::unique_ptr<EngineBase> build_engine(const std::string& kind, const std::string& preset_name,
                                         EngineBuildContext& ctx);

}  // namespace servetwin
