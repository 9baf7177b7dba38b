#include "sim/scenario/scenario_file.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <set>

#include "sim/catalog/catalog.hpp"

namespace servetwin {
namespace {

[[noreturn]] void fail(const std::filesystem::path& file, const YAML::Node& n, const std::string& key,
                       const std::string& problem) {
  throw ConfigError(fmt::format("{}:{}: key '{}': {}", file.string(), n.Mark().line + 1, key, problem));
}

void check_keys(const std::filesystem::path& file, const YAML::Node& map, const std::string& where,
                const std::set<std::string>& allowed) {
  if (!map.IsMap()) fail(file, map, where, "must be a mapping");
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (allowed.count(key) == 0) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(file, kv.first, where.empty() ? key : where + "." + key, "unknown key; allowed: " + list);
    }
  }
}

template <class T>
T scalar(const std::filesystem::path& file, const YAML::Node& n, const std::string& key, const char* type) {
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    fail(file, n, key, std::string("must be ") + type);
  }
}

}  // namespace

std::vector<Scenario> load_scenario_file(const std::filesystem::path& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    throw ConfigError(path.string() + ": cannot open scenario file");
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: YAML syntax error: {}", path.string(), e.mark.line + 1, e.msg));
  }
  check_keys(path, root, "",
             {"kind", "name", "description", "workload", "dataset", "trace", "duration_s", "requests", "seed", "load",
              "deployments"});
  if (!root["kind"] || root["kind"].as<std::string>() != "scenario") fail(path, root, "kind", "must be 'scenario'");
  Scenario base;
  base.name = root["name"] ? root["name"].as<std::string>() : path.stem().string();
  if (root["workload"]) base.workload = root["workload"].as<std::string>();
  const auto rel = [&](const YAML::Node& n) {
    std::filesystem::path p = n.as<std::string>();
    return (p.is_relative() ? path.parent_path() / p : p).string();
  };
  if (root["dataset"]) base.dataset_path = rel(root["dataset"]);
  if (root["trace"]) base.trace_path = rel(root["trace"]);
  if (root["duration_s"]) base.duration_s = scalar<double>(path, root["duration_s"], "duration_s", "a number");
  if (root["requests"]) base.max_requests = scalar<std::int64_t>(path, root["requests"], "requests", "an integer");
  if (root["seed"]) base.seed = scalar<std::uint64_t>(path, root["seed"], "seed", "a non-negative integer");
  if (root["load"]) {
    const auto& l = root["load"];
    check_keys(path, l, "load", {"type", "levels", "arrival", "max_in_flight"});
    if (l["type"]) {
      base.load.type = l["type"].as<std::string>();
      if (base.load.type != "closed" && base.load.type != "open") {
        fail(path, l["type"], "load.type", "'" + base.load.type + "' is not allowed; allowed: closed, open");
      }
    }
    if (l["levels"]) {
      if (!l["levels"].IsSequence()) fail(path, l["levels"], "load.levels", "must be a list of numbers");
      for (const auto& v : l["levels"]) base.load.levels.push_back(scalar<double>(path, v, "load.levels", "a number"));
    }
    if (l["arrival"]) base.load.arrival = l["arrival"].as<std::string>();
    if (l["max_in_flight"]) {
      base.load.max_in_flight = scalar<std::int64_t>(path, l["max_in_flight"], "load.max_in_flight", "an integer");
    }
  }
  if (!root["deployments"] || !root["deployments"].IsSequence() || root["deployments"].size() == 0) {
    fail(path, root, "deployments", "required: a non-empty list");
  }
  std::vector<Scenario> out;
  std::size_t i = 0;
  for (const auto& d : root["deployments"]) {
    const std::string where = fmt::format("deployments[{}]", i++);
    check_keys(path, d, where, {"name", "model", "instance", "gpu", "num_gpus", "tp", "engine", "engine_set", "dtype"});
    Scenario s = base;
    s.name = d["name"] ? d["name"].as<std::string>() : "";
    if (d["model"]) s.deployment.model = d["model"].as<std::string>();
    if (d["instance"]) s.deployment.instance = d["instance"].as<std::string>();
    if (d["gpu"]) s.deployment.gpu = d["gpu"].as<std::string>();
    if (d["num_gpus"]) s.deployment.num_gpus = scalar<int>(path, d["num_gpus"], where + ".num_gpus", "an integer");
    if (d["tp"]) s.deployment.tp = scalar<int>(path, d["tp"], where + ".tp", "an integer");
    if (d["engine"]) s.deployment.engine = d["engine"].as<std::string>();
    if (d["dtype"]) s.deployment.dtype = d["dtype"].as<std::string>();
    if (d["engine_set"]) {
      if (!d["engine_set"].IsMap()) fail(path, d["engine_set"], where + ".engine_set", "must be a mapping");
      for (const auto& kv : d["engine_set"]) s.deployment.engine_set[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace servetwin
