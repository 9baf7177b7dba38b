// Reads configs/validation/row_deployment.yaml through the catalog's strict YAML layer.
#include "sim/validate/row_deployment_policy.hpp"

#include <fmt/format.h>

#include "sim/catalog/catalog.hpp"
#include "sim/catalog/strict_yaml.hpp"
#include "sim/core/path_check.hpp"
#include "sim/cost/weight_datapath.hpp"

namespace servetwin {
namespace {

using yamlx::MapReader;

std::vector<std::string> required_list(const MapReader& r, const std::string& key, const std::string& allowed) {
  auto v = r.string_list(key);
  if (v.empty()) r.fail_at(key, "missing or empty list", allowed);
  return v;
}

std::vector<GpuLabelRule> read_gpu_labels(const MapReader& r) {
  std::vector<GpuLabelRule> out;
  for (const auto& item : r.child_list("gpu_labels", {"labels", "candidates", "default", "why"}, false)) {
    GpuLabelRule rule;
    rule.labels = required_list(item, "labels", "GPU labels as rows write them");
    rule.candidates = required_list(item, "candidates", "catalog GPU names");
    rule.fallback = item.str("default", true);
    rule.why = item.str("why", true);
    out.push_back(std::move(rule));
  }
  return out;
}

std::vector<UnsupportedGpuLabel> read_unsupported(const MapReader& r) {
  std::vector<UnsupportedGpuLabel> out;
  for (const auto& item : r.child_list("unsupported_gpus", {"labels", "reason"}, false)) {
    out.push_back({required_list(item, "labels", "GPU labels as rows write them"), item.str("reason", true)});
  }
  return out;
}

ModelIdWords read_model_words(const MapReader& r) {
  const MapReader m = r.child(
      "model_ids",
      {"drop_words", "drop_leading_words", "fp8_words", "fp4_words", "fp8_companion_words", "quantized_words"});
  ModelIdWords w;
  w.drop = m.string_list("drop_words");
  w.drop_leading = m.string_list("drop_leading_words");
  w.fp8 = required_list(m, "fp8_words", "words that name FP8 weights (fp8, ...)");
  w.fp4 = m.string_list("fp4_words");
  w.fp8_companions = m.string_list("fp8_companion_words");
  w.quantized = required_list(m, "quantized_words", "words that name integer or 4-bit weights (awq, gptq, ...)");
  return w;
}

std::vector<PrecisionSpelling> read_precisions(const MapReader& r) {
  std::vector<PrecisionSpelling> out;
  for (const auto& item : r.child_list("precision_spellings", {"precision", "spellings"}, true)) {
    out.push_back({item.enumeration("precision", weight_dtypes(), true),
                   required_list(item, "spellings", "lower-case spellings of the precision cell")});
  }
  return out;
}

std::vector<LengthLimitRule> read_length_limits(const MapReader& r) {
  std::vector<LengthLimitRule> out;
  for (const auto& item : r.child_list("length_limits", {"engine", "not_load_types", "settings"}, false)) {
    LengthLimitRule rule;
    rule.engine = item.str("engine", true);
    rule.not_load_types = item.string_list("not_load_types");
    for (const auto& s : item.child_list("settings", {"key", "covers", "unset"}, true)) {
      LengthLimitSetting setting;
      setting.key = s.str("key", true);
      setting.covers_output = s.enumeration("covers", {"prompt", "prompt_plus_output"}, true) == "prompt_plus_output";
      setting.unset_is_model_max = s.enumeration("unset", {"model_max_position"}, false) == "model_max_position";
      rule.settings.push_back(std::move(setting));
    }
    out.push_back(std::move(rule));
  }
  return out;
}

}  // namespace

RowDeploymentPolicy load_row_deployment_policy(const std::filesystem::path& file) {
  if (!check_path(file).regular) {
    throw ConfigError(fmt::format("{}:1: key '(file)': row deployment rules not found; allowed: the shipped "
                                  "configs/validation/row_deployment.yaml",
                                  file.string()));
  }
  const yamlx::DocNode root = yamlx::load_file(file);
  if (!root.is_map()) yamlx::fail(file.string(), root.line(), "(document)", "expected a mapping", "kind: validation_row_deployment");
  const MapReader r(root, file.string(), "",
                    {"kind", "description", "gpu_vendor_words", "gpu_labels", "unsupported_gpus", "model_ids",
                     "precision_spellings", "moving_versions", "length_limits"},
                    root.line());
  r.enumeration("kind", {"validation_row_deployment"}, true);
  (void)r.str("description", true);
  RowDeploymentPolicy p;
  p.gpu_vendor_words = r.string_list("gpu_vendor_words");
  p.gpu_labels = read_gpu_labels(r);
  p.unsupported_gpus = read_unsupported(r);
  p.model_words = read_model_words(r);
  p.precision_spellings = read_precisions(r);
  p.moving_versions = r.string_list("moving_versions");
  p.length_limits = read_length_limits(r);
  return p;
}

void check_row_deployment_policy(const RowDeploymentPolicy& policy, const Catalog& catalog,
                                 const std::filesystem::path& file) {
  auto known = [&](const std::string& gpu) {
    if (!catalog.has_gpu(gpu)) {
      throw ConfigError(fmt::format("{}: key 'gpu_labels': unknown GPU '{}'; allowed: {}", file.string(), gpu,
                                    yamlx::join(catalog.names("gpus"))));
    }
  };
  for (const auto& rule : policy.gpu_labels) {
    for (const auto& c : rule.candidates) known(c);
    known(rule.fallback);
  }
}

}  // namespace servetwin
