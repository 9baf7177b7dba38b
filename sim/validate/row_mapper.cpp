// map_row: a published row -> a scenario, by the validation policy (configs/validation), in four steps with
// their own files (row_preset, row_deployment, row_load, row_metrics).
#include <fmt/format.h>

#include "sim/catalog/catalog.hpp"
#include "sim/validate/row_deployment.hpp"
#include "sim/validate/row_load.hpp"
#include "sim/validate/row_mapping.hpp"
#include "sim/validate/row_metrics.hpp"
#include "sim/validate/row_preset.hpp"

namespace servetwin {
namespace {

// The row's model and GPU must be in the catalog, and the GPU calibrated; returns the reason when not.
std::string check_hardware(const Catalog& catalog, const ValidationRow& row) {
  const std::string& model = row.get("model");
  if (model.empty() || !catalog.has_model(model)) {
    return fmt::format("model '{}' is not in the catalog (configs/models)", model);
  }
  const std::string& gpu_col = row.get("gpu");
  if (gpu_col.empty() || !catalog.has_gpu(gpu_col)) {
    return fmt::format("GPU '{}' is not in the catalog (configs/gpus)", gpu_col);
  }
  const GpuSpec& gpu = catalog.gpu(gpu_col);
  if (!catalog.has_profile(gpu.name)) {
    return fmt::format("no hardware profile for GPU {} (configs/profiles): its cost-model efficiencies are not "
                       "calibrated",
                       gpu.name);
  }
  return "";
}

}  // namespace

RowMapping map_row(const Catalog& catalog, const ValidationPolicy& policy, const ValidationRow& row,
                   const std::filesystem::path& data_dir) {
  RowMapping m;
  auto unsupported = [&](std::string why) {
    m.scenario.reset();
    m.reason = std::move(why);
    return m;
  };
  if (auto why = check_hardware(catalog, row); !why.empty()) return unsupported(why);
  const std::string load_type = canonical_load_type(policy, row.get("load_type"));
  const PresetChoice choice =
      choose_preset(policy, row, canonical_engine(policy, row.get("engine")), load_type_for_presets(load_type));
  if (choice.preset.empty()) return unsupported(choice.reason);
  if (!catalog.has_engine(choice.preset)) {
    return unsupported("engine preset '" + choice.preset + "' missing from configs/engines");
  }
  const EngineSpec& spec = catalog.engine(choice.preset);
  m.engine_preset = choice.preset;
  m.engine_preset_version = spec.version;
  auto fit_it = spec.text_settings.find("fitted_on");
  m.fit_set = fit_it == spec.text_settings.end() ? "none" : fit_it->second;
  m.in_fit_set = policy.row_in_fit_set(m.fit_set, row);

  Scenario s;
  s.name = row.get("source_id");
  s.seed = 42;
  s.deployment.model = row.get("model");
  s.deployment.engine = choice.preset;
  const GpuSpec& gpu = catalog.gpu(row.get("gpu"));
  if (auto why = deploy_row(catalog, policy, row, gpu, spec, load_type_for_presets(load_type), s, m); !why.empty()) {
    return unsupported(why);
  }
  if (auto why = set_row_load(catalog, policy, row, spec, data_dir, load_type, s, m); !why.empty()) {
    return unsupported(why);
  }
  set_row_metrics(catalog, row, m);
  try {
    m.scenario = resolve_scenario(catalog, s);
  } catch (const ConfigError& e) {
    return unsupported(std::string("scenario does not resolve: ") + e.what());
  }
  return m;
}

}  // namespace servetwin
