// map_row: a published row -> a scenario, by the validation policy (configs/validation), in four steps with
// their own files (row_preset, row_deployment, row_load, row_metrics).
#include <fmt/format.h>

#include "sim/catalog/catalog.hpp"
#include "sim/validate/row_deployment.hpp"
#include "sim/validate/row_load.hpp"
#include "sim/validate/row_mapping.hpp"
#include "sim/validate/row_names.hpp"
#include "sim/validate/row_metrics.hpp"
#include "sim/validate/row_preset.hpp"

namespace servetwin {

RowMapping map_row(const Catalog& catalog, const ValidationPolicy& policy, const ValidationRow& published_row,
                   const std::filesystem::path& data_dir) {
  RowMapping m;
  auto unsupported = [&](std::string why) {
    m.scenario.reset();
    m.reason = std::move(why);
    return m;
  };
  // `row`: the published row with its gpu and model cells read as catalog names (row_names); the fit set is
  // decided on the published cells.
  ValidationRow row;
  if (auto why = resolve_deployment_cells(catalog, policy.deployment, published_row, row, m.notes); !why.empty()) {
    return unsupported(why);
  }
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
  m.in_fit_set = policy.row_in_fit_set(m.fit_set, published_row);

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
