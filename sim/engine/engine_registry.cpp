#include "sim/engine/engine_registry.hpp"

#include "sim/catalog/catalog.hpp"
#include "sim/engine/tgi_engine.hpp"
#include "sim/engine/tgis_engine.hpp"
#include "sim/engine/vllm_engine.hpp"

namespace servetwin {

std::unique_ptr<EngineBase> build_engine(const std::string& kind, EngineBuildContext& ctx) {
  if (kind == "tgis") {
    return std::make_unique<TgisEngine>(ctx.queue, ctx.listener, std::move(ctx.cost), ctx.model, ctx.gpu, ctx.settings);
  }
  if (kind == "vllm") {
    return std::make_unique<VllmEngine>(ctx.queue, ctx.listener, std::move(ctx.cost), ctx.model, ctx.gpu, ctx.settings);
  }
  if (kind == "tgi") {
    return std::make_unique<TgiEngine>(ctx.queue, ctx.listener, std::move(ctx.cost), ctx.model, ctx.gpu, ctx.settings);
  }
  throw ConfigError("engine '" + kind + "' is not modelled in this build; allowed: tgis, vllm, tgi");
}

}  // namespace servetwin
