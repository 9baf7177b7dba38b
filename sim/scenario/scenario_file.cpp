#include "sim/scenario/scenario_file.hpp"

#include <fmt/format.h>

#include "sim/catalog/catalog.hpp"
#include "sim/catalog/strict_yaml.hpp"
#include "sim/core/parse_number.hpp"
#include "sim/core/limits.hpp"

namespace servetwin {
namespace {

using yamlx::DocNode;
using yamlx::MapReader;

// A plain scalar read strictly as a number inside `limit`; errors name file, line and key.
double bounded_number(const MapReader& m, const DocNode& n, const std::string& key_path, const Limit& limit) {
  double v = 0;
  if (!n.is_plain_scalar() || !parse_finite_double(n.text(), v)) {
    yamlx::fail(m.file(), n.line(), key_path,
                fmt::format("expected a number, got '{}'", n.is_scalar() ? n.text() : "(not a scalar)"),
                describe_limit(limit));
  }
  if (!limit_violation(v, limit).empty()) {
    yamlx::fail(m.file(), n.line(), key_path, fmt::format("value {} out of range", n.text()), describe_limit(limit));
  }
  return v;
}

double bounded(const MapReader& m, const std::string& key, const Limit& limit) {
  return bounded_number(m, m.raw(key), m.key_path(key), limit);
}

std::uint64_t seed_of(const MapReader& m) {
  const DocNode& n = m.raw("seed");
  std::uint64_t v = 0;
  if (!n.is_plain_scalar() || !parse_uint64(n.text(), v)) {
    m.fail_at("seed", fmt::format("bad value '{}'", n.is_scalar() ? n.text() : "(not a scalar)"),
              "an integer in [0, 18446744073709551615]");
  }
  return v;
}

void read_load(const MapReader& root, Scenario& base) {
  const MapReader l = root.child("load", {"type", "levels", "arrival", "max_in_flight"});
  base.load.type = l.enumeration("type", {"closed", "open"}, false, base.load.type);
  if (l.has("levels")) {
    const DocNode& levels = l.raw("levels");
    if (!levels.is_sequence()) l.fail_at("levels", "expected a list of numbers", "[1, 2, 4]");
    const Limit& limit = base.load.type == "open" ? limits::kRatePerS : limits::kConcurrency;
    for (const auto& v : levels.items()) base.load.levels.push_back(bounded_number(l, v, l.key_path("levels"), limit));
  }
  base.load.arrival = l.str("arrival", false, base.load.arrival);
  if (l.has("max_in_flight")) {
    base.load.max_in_flight = static_cast<std::int64_t>(bounded(l, "max_in_flight", limits::kMaxInFlight));
  }
}

Scenario read_deployment(const MapReader& d, const Scenario& base) {
  Scenario s = base;
  s.name = d.str("name", false);
  s.deployment.model = d.str("model", false);
  s.deployment.instance = d.str("instance", false);
  s.deployment.gpu = d.str("gpu", false);
  if (d.has("num_gpus")) s.deployment.num_gpus = static_cast<int>(bounded(d, "num_gpus", limits::kNumGpus));
  if (d.has("tp")) s.deployment.tp = static_cast<int>(bounded(d, "tp", limits::kTp));
  s.deployment.engine = d.str("engine", false, s.deployment.engine);
  s.deployment.dtype = d.str("dtype", false, s.deployment.dtype);
  if (d.has("engine_set")) {
    const DocNode& set = d.raw("engine_set");
    std::vector<std::string> names;
    for (const auto& [k, v] : set.entries()) names.push_back(k.text());
    const MapReader settings = d.child("engine_set", names);  // rejects duplicates and non-mappings
    for (const auto& k : settings.keys()) s.deployment.engine_set[k] = settings.str(k, true);
  }
  return s;
}

// The scenarios of a parsed scenario file; `path` names it in errors and anchors relative paths.
std::vector<Scenario> scenarios_from_document(const yamlx::DocNode& doc, const std::filesystem::path& path) {
  const MapReader root(doc, path.string(), "",
                       {"kind", "name", "description", "workload", "dataset", "trace", "duration_s", "requests", "seed",
                        "load", "deployments"},
                       -1);
  root.enumeration("kind", {"scenario"}, true);
  Scenario base;
  base.name = root.str("name", false, path.stem().string());
  base.workload = root.str("workload", false, base.workload);
  const auto rel = [&](const std::string& key) {
    const std::filesystem::path p = root.str(key, true);
    return (p.is_relative() ? path.parent_path() / p : p).string();
  };
  if (root.has("dataset")) base.dataset_path = rel("dataset");
  if (root.has("trace")) base.trace_path = rel("trace");
  if (root.has("duration_s")) base.duration_s = bounded(root, "duration_s", limits::kDurationS);
  if (root.has("requests")) base.max_requests = static_cast<std::int64_t>(bounded(root, "requests", limits::kRequests));
  if (root.has("seed")) base.seed = seed_of(root);
  if (root.has("load")) read_load(root, base);
  const auto deployments = root.child_list(
      "deployments", {"name", "model", "instance", "gpu", "num_gpus", "tp", "engine", "engine_set", "dtype"}, true);
  if (deployments.empty()) root.fail_at("deployments", "empty list", "a non-empty list of deployments");
  std::vector<Scenario> out;
  out.reserve(deployments.size());
  for (const auto& d : deployments) out.push_back(read_deployment(d, base));
  return out;
}

}  // namespace

std::vector<Scenario> load_scenario_file(const std::filesystem::path& path) {
  return scenarios_from_document(yamlx::load_file(path), path);
}

std::vector<Scenario> parse_scenario_text(const std::string& text, const std::filesystem::path& path) {
  return scenarios_from_document(yamlx::load_text(text, path.string()), path);
}

}  // namespace servetwin
