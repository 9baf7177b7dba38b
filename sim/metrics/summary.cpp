#include "sim/metrics/summary.hpp"

#include <fstream>
#include <stdexcept>

#include "sim/version.hpp"

namespace servetwin {

nlohmann::json make_summary(const RunInfo& info, const std::vector<ScenarioResult>& scenarios) {
  nlohmann::json j;
  j["schema_version"] = kSummarySchemaVersion;
  j["tool"] = {{"name", "servetwin"}, {"version", version_string()}, {"git_sha", git_sha()}};
  j["producer"] = info.producer;
  j["seed"] = info.seed;
  j["partial"] = info.partial;
  if (info.partial) j["partial_reason"] = info.partial_reason;
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& s : scenarios) {
    arr.push_back({{"name", s.name}, {"resolved_config", s.resolved_config}, {"stages", s.stages}});
  }
  j["scenarios"] = arr;
  return j;
}

void write_json_file(const std::filesystem::path& path, const nlohmann::json& j) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  const auto tmp = std::filesystem::path(path.string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
    out << j.dump(2) << '\n';
    if (!out) throw std::runtime_error("write failed: " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace servetwin
