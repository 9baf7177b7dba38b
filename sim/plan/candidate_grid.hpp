#pragma once
// The candidate deployments `plan` searches: models x (instances, and every catalog instance that has
// one of the given GPUs) x TP x engines x engine-setting values. Grid order is deterministic (the
// order of the lists given, instances of a GPU by name, engine-setting keys as given).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/scenario/deployment.hpp"

namespace servetwin {

struct CandidateSpace {
  std::vector<std::string> models, instances, gpus, engines;
  std::vector<int> tps;  // empty: 1, 2, 4, ... up to each instance's GPU count
  std::string dtype = "fp16";
  std::map<std::string, std::string> engine_set;                             // fixed overrides
  std::vector<std::pair<std::string, std::vector<std::string>>> engine_ranges;  // key -> values to try
};

// "KEY=V1,V2,V3" -> {KEY, {V1, V2, V3}}; throws ConfigError on a malformed entry or a repeated key.
std::vector<std::pair<std::string, std::vector<std::string>>> parse_engine_ranges(const std::vector<std::string>& entries);

// Throws ConfigError for an unknown model, instance, GPU or engine name, or an empty space.
std::vector<DeploymentConfig> expand_candidates(const Catalog& catalog, const CandidateSpace& space);

}  // namespace servetwin
