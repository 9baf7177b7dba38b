#include "sim/formats/foreign_file.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "sim/catalog/catalog.hpp"
#include "sim/core/rng.hpp"

namespace servetwin::formats {

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ConfigError(fmt::format("{}: cannot open", path.string()));
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw ConfigError(fmt::format("{}: empty file", path.string()));
  }
  return text;
}

nlohmann::json parse_json_lenient(const std::string& text) {
  // Replace Python's bare -Infinity / Infinity / NaN tokens outside strings.
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (text.compare(i, 9, "-Infinity") == 0) {
      out += "\"-inf\"";
      i += 8;
    } else if (text.compare(i, 8, "Infinity") == 0) {
      out += "\"inf\"";
      i += 7;
    } else if (text.compare(i, 3, "NaN") == 0) {
      out += "null";
      i += 2;
    } else {
      out += c;
    }
  }
  return nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
}

namespace {

nlohmann::json scalar_to_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted: stays text
  if (s == "null" || s == "~" || s.empty()) return nullptr;
  if (s == "true" || s == "True") return true;
  if (s == "false" || s == "False") return false;
  if (s == ".inf" || s == ".Inf" || s == "+.inf") return "inf";
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size() && std::isfinite(v)) return v;
  } catch (const std::exception&) {
  }
  return s;
}

nlohmann::json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : n) j[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& e : n) j.push_back(yaml_to_json(e));
      return j;
    }
    case YAML::NodeType::Scalar: return scalar_to_json(n);
    default: return nullptr;
  }
}

}  // namespace

nlohmann::json parse_yaml_as_json(const std::string& text, const std::string& file) {
  try {
    return yaml_to_json(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: not valid JSON or YAML: {}", file, e.mark.line + 1, e.msg));
  }
}

const nlohmann::json& require(const nlohmann::json& obj, const char* key, const std::string& file,
                              const std::string& path) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) {
    throw ConfigError(fmt::format("{}: field '{}{}' missing", file, path, key));
  }
  return obj[key];
}

double require_number(const nlohmann::json& obj, const char* key, const std::string& file, const std::string& path) {
  const auto& v = require(obj, key, file, path);
  if (!v.is_number()) throw ConfigError(fmt::format("{}: field '{}{}' is {}, expected a number", file, path, key, v.dump()));
  return v.get<double>();
}

const nlohmann::json& require_array(const nlohmann::json& obj, const char* key, const std::string& file,
                                    const std::string& path) {
  const auto& v = require(obj, key, file, path);
  if (!v.is_array()) throw ConfigError(fmt::format("{}: field '{}{}' is not an array", file, path, key));
  return v;
}

void assign_closed_loop_slots(std::vector<RequestRecord>& records, int slots) {
  std::vector<std::size_t> order(records.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::tie(records[a].arrival_ns, records[a].request_id) < std::tie(records[b].arrival_ns, records[b].request_id);
  });
  std::vector<TimeNs> free_at(static_cast<std::size_t>(std::max(1, slots)), -1);
  for (const std::size_t i : order) {
    auto& r = records[i];
    // The slot freed most recently at or before this send; if clocks disagree, the earliest free.
    std::size_t pick = 0;
    bool found = false;
    for (std::size_t s = 0; s < free_at.size(); ++s) {
      if (free_at[s] <= r.arrival_ns && (!found || free_at[s] > free_at[pick])) {
        pick = s;
        found = true;
      }
    }
    if (!found) pick = static_cast<std::size_t>(std::min_element(free_at.begin(), free_at.end()) - free_at.begin());
    r.user_id = static_cast<std::int64_t>(pick);
    free_at[pick] = std::max(r.finish_ns, r.arrival_ns);
  }
}

std::pair<TimeNs, TimeNs> request_count_window(const std::vector<RequestRecord>& records) {
  TimeNs first = -1, last = -1;
  for (const auto& r : records) {
    if (r.arrival_ns < 0) continue;
    first = first < 0 ? r.arrival_ns : std::min(first, r.arrival_ns);
    last = std::max({last, r.finish_ns, r.arrival_ns});
  }
  if (first < 0) return {0, 1};
  return {first, last + 1};
}

double population_std(const std::vector<double>& values) {
  if (values.empty()) return 0;
  double mean = 0;
  for (const double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0;
  for (const double v : values) ss += (v - mean) * (v - mean);
  return std::sqrt(ss / static_cast<double>(values.size()));
}

std::string stable_hex_id(const std::string& text) {
  const std::uint64_t h = stable_hash(text);
  return fmt::format("{:016x}{:016x}", h, splitmix64(h));
}

}  // namespace servetwin::formats
