#include "calibrate/probe/probe_merge.hpp"

#include <fmt/format.h>

#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {

namespace {

using nlohmann::json;

void require_probe(const std::string& file, const json& p) {
  if (!p.is_object() || p.value("schema", "") != "servetwin.probe.v1")
    throw ConfigError(file + ": schema: expected \"servetwin.probe.v1\" (a file written by servetwin calibrate probe)");
  if (!p.contains("phases") || !p["phases"].is_array()) throw ConfigError(file + ": phases: missing or not a list");
}

// The field of `p` that must equal the first probe's, or "" when all do.
std::string differing_field(const json& first, const json& p) {
  for (const char* key : {"protocol", "model_id", "server_cache_config"})
    if (first.value(key, json()) != p.value(key, json())) return key;
  const json e0 = first.value("server_engine", json::object());
  const json e1 = p.value("server_engine", json::object());
  for (const char* key : {"name", "version"})
    if (e0.value(key, json()) != e1.value(key, json())) return std::string("server_engine.") + key;
  return "";
}

}  // namespace

json merge_probes(const std::vector<std::pair<std::string, json>>& probes) {
  if (probes.empty()) throw ConfigError("calibrate fit: no probe given");
  for (const auto& [file, p] : probes) require_probe(file, p);
  if (probes.size() == 1) return probes.front().second;
  const auto& [first_file, first] = probes.front();
  json merged = first;
  merged["phases"] = json::array();
  merged["merged_from"] = json::array();
  bool complete = true;
  double elapsed_s = 0;
  std::string partial;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const auto& [file, p] = probes[i];
    if (const std::string field = differing_field(first, p); !field.empty())
      throw ConfigError(fmt::format("{}: {}: differs from {}'s: the probes must be of one endpoint", file, field, first_file));
    for (json ph : p["phases"]) {
      ph["probe"] = i;
      merged["phases"].push_back(std::move(ph));
    }
    merged["merged_from"].push_back(file);
    complete = complete && p.value("complete", false);
    elapsed_s += p.value("elapsed_s", 0.0);
    if (!p.value("complete", false)) {
      if (!partial.empty()) partial += "; ";
      partial += file;
      partial += ": ";
      partial += p.value("partial_reason", std::string("?"));
    }
  }
  merged["complete"] = complete;
  merged["partial_reason"] = partial;
  merged["elapsed_s"] = elapsed_s;
  return merged;
}

}  // namespace servetwin::calibrate
