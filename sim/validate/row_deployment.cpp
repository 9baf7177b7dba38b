#include "sim/validate/row_deployment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <regex>

#include "sim/catalog/catalog.hpp"
#include "sim/catalog/strict_yaml.hpp"
#include "sim/cost/weight_datapath.hpp"
#include "sim/scenario/deployment.hpp"
#include "sim/validate/row_limits.hpp"
#include "sim/validate/row_names.hpp"

namespace servetwin {
namespace {

std::optional<std::string> note_value(const std::string& notes, const std::string& key) {
  const std::regex re("(^|[ ;(,])" + key + "=([0-9.]+|True|False|true|false)");
  std::smatch m;
  if (std::regex_search(notes, m, re)) return m[2].str();
  return std::nullopt;
}

// Data parallelism: num_gpus = k x tp serves k independent replicas behind a round-robin balancer. The deployment
// is one replica on its own GPUs (the instance's interconnect is then not used between replicas); validate runs k
// of them behind the planner's router under the row's whole load (row_mapping.hpp).
// A multi-GPU replica with no instance runs on its GPU's server interconnect where the catalog names one
// (configs/gpus server_interconnect, applied by resolve_deployment); the row's notes say so.
void note_server_interconnect(const GpuSpec& gpu, const DeploymentConfig& d, RowMapping& m) {
  if (!runs_on_server_interconnect(gpu, d)) return;
  m.notes.push_back(fmt::format("no instance: {} x {} on interconnect {} (configs/gpus server_interconnect)",
                                d.num_gpus, gpu.name, gpu.server_interconnect));
}

std::string place(const Catalog& catalog, const ValidationRow& row,
                  const GpuSpec& gpu, DeploymentConfig& d, RowMapping& m) {
  if (!row.get("instance").empty() && catalog.has_instance(row.get("instance"))) {
    d.instance = row.get("instance");
  } else {
    d.gpu = gpu.name;
  }
  d.num_gpus = static_cast<int>(row.number("num_gpus").value_or(0));
  d.tp = static_cast<int>(row.number("tp").value_or(0));
  if (d.tp > 0 && d.num_gpus > d.tp) {
    if (d.num_gpus % d.tp != 0) {
      return fmt::format("num_gpus {} is not a multiple of tp {} (only TP x data-parallel replicas are modelled)",
                         d.num_gpus, d.tp);
    }
    m.replicas = d.num_gpus / d.tp;
    d.num_gpus = d.tp;
    d.instance.clear();
    d.gpu = gpu.name;
  }
  note_server_interconnect(gpu, d, m);
  return "";
}

// Weights precision: unstated means the checkpoint's 16-bit weights. A precision the cost model has no
// datapath for (int4, int8, mxfp4, ...) is a reason, not a silent fp16 run. Spellings: row_deployment.yaml;
// "auto" is the checkpoint's own 16-bit dtype; every FP8 variant (e4m3, dynamic, w8a8-fp8) runs the FP8 datapath.
std::string precision(const RowDeploymentPolicy& policy, const ValidationRow& row, const GpuSpec& gpu,
                      DeploymentConfig& d) {
  const CellReading p = read_precision(policy, row.get("precision"));
  if (!p.reason.empty()) return p.reason;
  d.dtype = p.value.empty() ? "fp16" : p.value;
  if (!gpu_runs_dtype(gpu, d.dtype)) {
    return fmt::format("precision {} on GPU {}, which has no {} tensor cores; allowed on it: {}", d.dtype, gpu.name,
                       tensor_core_name(d.dtype), weight_dtypes_on(gpu));
  }
  return "";
}

// The policy's engine settings (row_mapping.yaml, then the row's source), then vLLM settings the row's notes
// state ("max_num_seqs=64", "cpu_offload=True").
void engine_settings(const ValidationPolicy& policy, const ValidationRow& row, const EngineSpec& spec,
                     const std::string& load_type, DeploymentConfig& d) {
  auto apply = [&](const std::vector<EngineSettingRule>& rules) {
    for (const auto& rule : rules) {
      if (!rule.applies(spec.name, d.dtype, load_type)) continue;
      for (const auto& [key, value] : rule.set) d.engine_set[key] = value;
    }
  };
  apply(policy.engine_settings);
  if (const SourcePolicy* src = policy.source_of(row)) apply(src->engine_settings);
  if (spec.engine != "vllm") return;
  const std::string& notes = row.get("notes");
  for (const char* key : {"max_num_batched_tokens", "max_num_seqs", "max_model_len", "gpu_memory_utilization"}) {
    if (auto v = note_value(notes, key)) d.engine_set[key] = *v;
  }
  if (auto off = note_value(notes, "cpu_offload"); off && (*off == "True" || *off == "true")) {
    // vLLM OffloadingConnector with 8 GiB of host memory (README: cpu_offload=True rows).
    d.engine_set["kv_cpu_offload_bytes"] = fmt::format("{}", 8.0 * 1024 * 1024 * 1024);
  }
}

}  // namespace

std::string deploy_row(const Catalog& catalog, const ValidationPolicy& policy, const ValidationRow& row,
                       const GpuSpec& gpu, const EngineSpec& spec, const std::string& load_type, Scenario& s,
                       RowMapping& m) {
  DeploymentConfig& d = s.deployment;
  if (auto why = place(catalog, row, gpu, d, m); !why.empty()) return why;
  if (auto why = precision(policy.deployment, row, gpu, d); !why.empty()) return why;
  engine_settings(policy, row, spec, load_type, d);
  raise_length_limits(policy.deployment, row, spec, load_type, catalog.model(d.model), d, m.notes);
  return "";
}

}  // namespace servetwin
