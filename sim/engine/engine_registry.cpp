#include "sim/engine/engine_registry.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

void EngineRegistry::add(EngineKind kind) {
  if (kind.name.empty() || !kind.build) throw std::logic_error("engine registration without a name or a factory");
  const std::string name = kind.name;
  if (!kinds_.emplace(name, std::move(kind)).second) {
    throw std::logic_error("engine kind '" + name + "' is registered twice");
  }
}

const EngineKind* EngineRegistry::find(const std::string& name) const {
  const auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<std::string> EngineRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(kinds_.size());
  for (const auto& [name, kind] : kinds_) out.push_back(name);
  return out;
}

EngineRegistry& engine_registry() {
  // Built on first use (not at static initialisation), so static EngineRegistration objects in
  // other translation units find it whatever the initialisation order.
  static EngineRegistry registry = [] {
    EngineRegistry r;
    register_builtin_engines(r);
    return r;
  }();
  return registry;
}

std::unique_ptr<EngineBase> build_engine(const std::string& kind, const std::string& preset_name,
                                         EngineBuildContext& ctx) {
  const EngineKind* k = engine_registry().find(kind);
  if (k == nullptr) {
    throw ConfigError(fmt::format("engine preset '{}': key 'engine': '{}' is not an engine of this build; allowed: {}",
                                  preset_name, kind, fmt::join(engine_registry().names(), ", ")));
  }
  return k->build(ctx);
}

}  // namespace servetwin
