#include "sim/plan/candidate_grid.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

std::vector<std::pair<std::string, std::vector<std::string>>> parse_engine_ranges(const std::vector<std::string>& entries) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& e : entries) {
    const auto eq = e.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == e.size()) {
      throw ConfigError("--engine-range '" + e + "': expected KEY=V1,V2,... (e.g. max_num_seqs=64,128,256)");
    }
    std::pair<std::string, std::vector<std::string>> range{e.substr(0, eq), {}};
    for (std::size_t start = eq + 1; start <= e.size();) {
      const auto comma = e.find(',', start);
      const std::string v = e.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (v.empty()) throw ConfigError("--engine-range '" + e + "': empty value");
      range.second.push_back(v);
      start = comma == std::string::npos ? e.size() + 1 : comma + 1;
    }
    if (std::any_of(out.begin(), out.end(), [&](const auto& r) { return r.first == range.first; })) {
      throw ConfigError("--engine-range: key '" + range.first + "' given twice");
    }
    out.push_back(std::move(range));
  }
  return out;
}

namespace {

std::vector<std::string> instance_names(const Catalog& catalog, const CandidateSpace& space) {
  std::vector<std::string> out;
  for (const auto& name : space.instances) out.push_back(catalog.instance(name).name);
  for (const auto& gpu_name : space.gpus) {
    const std::string gpu = catalog.gpu(gpu_name).name;
    bool any = false;
    for (const auto& name : catalog.names("instances")) {
      if (catalog.instance(name).gpu != gpu) continue;
      any = true;
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
    if (!any) throw ConfigError(fmt::format("--gpus {}: no catalog instance has this GPU, so it has no price", gpu));
  }
  return out;
}

// Every combination of the engine-setting ranges, first key slowest.
std::vector<std::map<std::string, std::string>> engine_setting_combinations(const CandidateSpace& space) {
  std::vector<std::map<std::string, std::string>> combos{space.engine_set};
  for (const auto& [key, values] : space.engine_ranges) {
    std::vector<std::map<std::string, std::string>> next;
    for (const auto& c : combos) {
      for (const auto& v : values) {
        auto m = c;
        m[key] = v;
        next.push_back(std::move(m));
      }
    }
    combos = std::move(next);
  }
  return combos;
}

}  // namespace

std::vector<DeploymentConfig> expand_candidates(const Catalog& catalog, const CandidateSpace& space) {
  if (space.models.empty()) throw ConfigError("no candidates: give --models");
  const auto instances = instance_names(catalog, space);
  if (instances.empty()) throw ConfigError("no candidates: give --instances or --gpus");
  std::vector<std::string> engines = space.engines;
  if (engines.empty()) engines = {DeploymentConfig{}.engine};
  for (auto& e : engines) e = catalog.engine(e).name;
  const auto settings = engine_setting_combinations(space);
  std::vector<DeploymentConfig> out;
  for (const auto& model : space.models) {
    const std::string model_name = catalog.model(model).name;
    for (const auto& inst : instances) {
      std::vector<int> tps = space.tps;
      if (tps.empty()) {
        for (int tp = 1; tp <= catalog.instance(inst).gpu_count; tp *= 2) tps.push_back(tp);
      }
      for (const int tp : tps) {
        for (const auto& engine : engines) {
          for (const auto& set : settings) {
            DeploymentConfig d;
            d.model = model_name;
            d.instance = inst;
            d.tp = tp;
            d.engine = engine;
            d.engine_set = set;
            d.dtype = space.dtype;
            out.push_back(std::move(d));
          }
        }
      }
    }
  }
  return out;
}

}  // namespace servetwin
