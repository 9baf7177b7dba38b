#include "sim/engine/engine_registry.hpp"

#include "sim/catalog/catalog.hpp"
#include "sim/engine/tgis_engine.hpp"

namespace servetwin {

std::unique_ptr<EngineBase> build_engine(const std::string& kind, EngineBuildContext& ctx) {
  if (kind == "tgis") {
    return std::make_unique<TgisEngine>(ctx.queue, ctx.listener, std::move(ctx.cost), ctx.model, ctx.gpu, ctx.settings);
  }
  throw ConfigError("engine '" + kind + "' is not modelled in this build; allowed: tgis");
}

}  // namespace servetwin
