#include "sim/workload/distserve_trace.hpp"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

std::vector<TraceRow> load_distserve_workload(const std::filesystem::path& path) {
  std::ifstream f(path);
  if (!f) throw ConfigError(fmt::format("{}: cannot open DistServe workload file", path.string()));
  std::stringstream ss;
  ss << f.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const std::exception& e) {
    throw ConfigError(fmt::format("{}: not a JSON list of requests ({})", path.string(), e.what()));
  }
  if (!j.is_array()) throw ConfigError(fmt::format("{}: expected a JSON list of requests", path.string()));
  std::vector<TraceRow> rows;
  rows.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& e = j[i];
    if (!e.is_object() || !e.contains("prompt_len") || !e.contains("output_len") || !e.contains("start_time")) {
      throw ConfigError(fmt::format("{}: entry {} lacks prompt_len/output_len/start_time", path.string(), i));
    }
    TraceRow r;
    r.arrived_at_s = e["start_time"].get<double>();
    r.input_tokens = e["prompt_len"].get<std::int64_t>();
    r.output_tokens = e["output_len"].get<std::int64_t>();
    if (r.input_tokens <= 0 || r.output_tokens <= 0) {
      throw ConfigError(fmt::format("{}: entry {} has a non-positive length", path.string(), i));
    }
    if (!rows.empty() && r.arrived_at_s < rows.back().arrived_at_s) {
      throw ConfigError(fmt::format("{}: entry {} start_time goes backwards", path.string(), i));
    }
    rows.push_back(r);
  }
  return rows;
}

}  // namespace servetwin
