#include "sim/validate/row_names.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "sim/catalog/catalog.hpp"
#include "sim/catalog/strict_yaml.hpp"
#include "sim/core/string_list.hpp"
#include "sim/cost/weight_datapath.hpp"

namespace servetwin {
namespace {

// Lower-cased words of a label, split at every character other than a letter, a digit or '.' ("NVIDIA H100_80GB",
// "A100 (80GB)" -> nvidia, h100, 80gb / a100, 80gb); '.' stays, as in "3.1" and "v0.1".
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (const char ch : yamlx::lower(text)) {
    if (std::isalnum(static_cast<unsigned char>(ch)) == 0 && ch != '.') {
      if (!word.empty()) words.push_back(word);
      word.clear();
    } else {
      word.push_back(ch);
    }
  }
  if (!word.empty()) words.push_back(word);
  return words;
}

std::string joined(const std::vector<std::string>& words) { return fmt::format("{}", fmt::join(words, "-")); }

// A GPU label's comparison key: its words without leading vendor words ("nvidia", "amd"), joined by '-'.
std::string gpu_key(const RowDeploymentPolicy& policy, const std::string& label) {
  std::vector<std::string> w = words_of(label);
  while (w.size() > 1 && list_contains(policy.gpu_vendor_words, w.front())) w.erase(w.begin());
  return joined(w);
}

// The catalog GPU whose name or an alias has `key` as its key; "" when none.
std::string catalog_gpu_by_key(const Catalog& catalog, const RowDeploymentPolicy& policy, const std::string& key) {
  for (const auto& [name, spec] : catalog.gpus) {
    if (gpu_key(policy, name) == key) return name;
    for (const auto& alias : spec.aliases) {
      if (gpu_key(policy, alias) == key) return name;
    }
  }
  return "";
}

CellReading ambiguous_gpu(const Catalog& catalog, const GpuLabelRule& rule, const ValidationRow& row) {
  const std::string& label = row.get("gpu");
  const std::string& inst = row.get("instance");
  if (!inst.empty() && catalog.has_instance(inst)) {
    const std::string gpu = catalog.gpu(catalog.instance(inst).gpu).name;
    if (list_contains(rule.candidates, gpu)) {
      return {gpu, fmt::format("gpu '{}' does not say which of {} it is: {}, the GPU of instance {}", label,
                               fmt::join(rule.candidates, ", "), gpu, catalog.instance(inst).name),
              "", ""};
    }
  }
  return {rule.fallback,
          fmt::format("gpu '{}' does not say which of {} it is: read as {} (row_deployment.yaml default)", label,
                      fmt::join(rule.candidates, ", "), rule.fallback),
          "", ""};
}

// What a model id's words say once its org prefix is gone: the architecture key and the weight format.
struct ModelWords {
  std::string key;
  std::string weight_dtype;  // "fp8" | "fp4" when a word names those weights
  std::string quantized;  // the first word naming integer/4-bit weights ("" = none)
  std::vector<std::string> dropped;
};

bool names_quantized(const ModelIdWords& words, const std::string& w) {
  for (const auto& q : words.quantized) {
    if (w == q || w.rfind(q + ".", 0) == 0) return true;
  }
  return false;
}

ModelWords model_words(const ModelIdWords& rules, const std::string& id) {
  const auto slash = id.rfind('/');
  std::vector<std::string> w = words_of(slash == std::string::npos ? id : id.substr(slash + 1));
  ModelWords out;
  while (w.size() > 1 && list_contains(rules.drop_leading, w.front())) {
    out.dropped.push_back(w.front());
    w.erase(w.begin());
  }
  for (const auto& word : w) {
    if (list_contains(rules.fp8, word)) out.weight_dtype = "fp8";
    if (list_contains(rules.fp4, word)) out.weight_dtype = "fp4";
  }
  std::vector<std::string> kept;
  for (const auto& word : w) {
    if (out.quantized.empty() && names_quantized(rules, word)) out.quantized = word;
    const bool drop = list_contains(rules.drop, word) || list_contains(rules.fp8, word) ||
                      list_contains(rules.fp4, word) ||
                      (!out.weight_dtype.empty() && list_contains(rules.fp8_companions, word));
    (drop ? out.dropped : kept).push_back(word);
  }
  out.key = joined(kept);
  return out;
}

// Every catalog model by the key of its name and of each alias (a key can name several models: ambiguous).
std::map<std::string, std::set<std::string>> models_by_key(const Catalog& catalog, const ModelIdWords& rules) {
  std::map<std::string, std::set<std::string>> index;
  for (const auto& [name, spec] : catalog.models) {
    index[model_words(rules, name).key].insert(name);
    for (const auto& alias : spec.aliases) index[model_words(rules, alias).key].insert(name);
  }
  return index;
}

std::string model_id_rules(const ModelIdWords& rules) {
  return fmt::format("ids compare without their org prefix, leading {}, and the words {}, {}", fmt::join(rules.drop_leading, "/"),
                     fmt::join(rules.drop, ", "), fmt::join(rules.fp8, ", "));
}

}  // namespace

CellReading read_gpu_label(const Catalog& catalog, const RowDeploymentPolicy& policy, const ValidationRow& row) {
  const std::string& label = row.get("gpu");
  if (!label.empty() && catalog.has_gpu(label)) return {catalog.gpu(label).name, "", "", ""};
  const std::string key = gpu_key(policy, label);
  for (const auto& rule : policy.gpu_labels) {
    for (const auto& l : rule.labels) {
      if (gpu_key(policy, l) == key) return ambiguous_gpu(catalog, rule, row);
    }
  }
  for (const auto& u : policy.unsupported_gpus) {
    for (const auto& l : u.labels) {
      if (gpu_key(policy, l) == key) return {"", "", fmt::format("gpu '{}': {}", label, u.reason), ""};
    }
  }
  if (!key.empty()) {
    if (std::string gpu = catalog_gpu_by_key(catalog, policy, key); !gpu.empty()) {
      return {gpu, fmt::format("gpu '{}' read as {}", label, gpu), "", ""};
    }
  }
  return {"", "",
          fmt::format("gpu '{}' is not in the catalog; allowed: {} (or an alias in configs/gpus; case, spaces, '_' and "
                      "a leading {} do not matter)",
                      label, fmt::join(catalog.names("gpus"), ", "), fmt::join(policy.gpu_vendor_words, "/")),
          ""};
}

CellReading read_model_id(const Catalog& catalog, const RowDeploymentPolicy& policy, const std::string& id) {
  const ModelIdWords& rules = policy.model_words;
  const ModelWords mw = model_words(rules, id);
  if (!id.empty() && catalog.has_model(id)) return {catalog.model(id).name, "", "", mw.weight_dtype};
  const auto index = models_by_key(catalog, rules);
  const auto it = index.find(mw.key);
  if (!mw.quantized.empty()) {
    const std::string base = it == index.end() || it->second.size() != 1 ? "" : " (architecture " + *it->second.begin() + ")";
    return {"", "",
            fmt::format("model '{}' has quantized weights ('{}'){}: the cost model's weight datapaths are fp16, bf16, "
                        "fp8 and NVFP4 only (no int4/int8 dequantising GEMM); allowed: a 16-bit, FP8 or NVFP4 checkpoint",
                        id, mw.quantized, base),
            ""};
  }
  if (id.empty() || it == index.end()) {
    return {"", "",
            fmt::format("model '{}' (read as '{}') is not in the catalog; allowed: a model in configs/models (servetwin "
                        "list models); {}",
                        id, mw.key, model_id_rules(rules)),
            ""};
  }
  if (it->second.size() > 1) {
    return {"", "", fmt::format("model '{}' (read as '{}') matches several catalog models: {}; allowed: one of their exact ids",
                                id, mw.key, fmt::join(it->second, ", ")),
            ""};
  }
  const std::string name = *it->second.begin();
  return {name, fmt::format("model '{}' read as {} (words dropped: {})", id, name, fmt::join(mw.dropped, ", ")), "",
          mw.weight_dtype};
}

CellReading read_precision(const RowDeploymentPolicy& policy, const std::string& cell) {
  std::string p = yamlx::lower(cell);
  p.erase(std::remove_if(p.begin(), p.end(), [](unsigned char ch) { return std::isspace(ch) != 0; }), p.end());
  if (p.empty()) return {"", "", "", ""};
  for (const auto& s : policy.precision_spellings) {
    if (list_contains(s.spellings, p)) return {s.precision, "", "", ""};
  }
  if (p.find("fp8") != std::string::npos) return {"fp8", "", "", ""};  // every FP8 variant runs the FP8 datapath
  // The allowed spellings of each precision are in row_deployment.yaml (precision_spellings).
  return {"", "", fmt::format("precision '{}' is not modelled ({})", cell, fmt::join(weight_dtypes(), ", ")), ""};
}

std::string resolve_deployment_cells(const Catalog& catalog, const RowDeploymentPolicy& policy,
                                     const ValidationRow& row, ValidationRow& resolved,
                                     std::vector<std::string>& notes) {
  resolved = row;
  const CellReading model = read_model_id(catalog, policy, row.get("model"));
  if (!model.reason.empty()) return model.reason;
  const CellReading gpu = read_gpu_label(catalog, policy, row);
  if (!gpu.reason.empty()) return gpu.reason;
  if (!catalog.has_profile(gpu.value)) {
    return fmt::format("no hardware profile for GPU {} (configs/profiles): its cost-model efficiencies are not "
                       "calibrated",
                       gpu.value);
  }
  for (const auto* r : {&model, &gpu}) {
    if (!r->note.empty()) notes.push_back(r->note);
  }
  // An exact cell stays as written (the catalog finds it), so rows that mapped before map byte-identically.
  if (!model.note.empty()) resolved.cells["model"] = model.value;
  if (!gpu.note.empty()) resolved.cells["gpu"] = gpu.value;
  const std::string& named = model.weight_dtype;
  if (!named.empty() && row.get("precision").empty()) {
    resolved.cells["precision"] = named;
    notes.push_back(fmt::format("precision unstated: {}, from the model id '{}'", named, row.get("model")));
  } else if (!named.empty() && read_precision(policy, row.get("precision")).value != named) {
    notes.push_back(fmt::format("the precision cell '{}' wins over the {} named by the model id '{}'",
                                row.get("precision"), named, row.get("model")));
  }
  const std::string version = yamlx::lower(row.get("engine_version"));
  if (list_contains(policy.moving_versions, version)) {
    resolved.cells["engine_version"] = "";
    notes.push_back(fmt::format("engine_version '{}' names a branch, not a release: read as unstated (the rule's "
                                "unstated_version, today's engine)",
                                row.get("engine_version")));
  }
  return "";
}

}  // namespace servetwin
