// Golden summaries for two small scenarios: any change to simulated results shows up as a diff that
// must be reviewed and committed deliberately. Regenerate with SERVETWIN_UPDATE_GOLDEN=1 (documented in
// docs/testing.md); the tool version and git SHA are left out so a commit does not change the file.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sim/catalog/catalog.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/scenario/run_output.hpp"

namespace servetwin {
namespace {

std::string golden_path(const std::string& name) {
  return std::string(SERVETWIN_SOURCE_DIR) + "/tests/golden/" + name + ".json";
}

void check_golden(const std::string& name, const std::vector<Scenario>& raw) {
  const Catalog catalog = Catalog::load(default_config_dir());
  std::vector<Scenario> scenarios;
  for (const auto& s : raw) scenarios.push_back(resolve_scenario(catalog, s));
  const auto runs = run_scenarios(catalog, scenarios, 2, false, false);
  RunInfo info;
  info.producer = "simulator";
  info.seed = scenarios.front().seed;
  nlohmann::json j = make_summary(info, to_scenario_results(runs));
  j.erase("tool");
  const std::string text = j.dump(2) + "\n";
  const std::string path = golden_path(name);
  const char* update = std::getenv("SERVETWIN_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << text;
    GTEST_SKIP() << "golden file rewritten: " << path;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing golden file " << path << " (run with SERVETWIN_UPDATE_GOLDEN=1)";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), text) << "simulated results changed; review and regenerate " << path;
}

TEST(GoldenSummary, ClosedLoopTgisSmall) {
  Scenario s;
  s.deployment.model = "meta-llama/Llama-2-7b-hf";
  s.deployment.instance = "g5.2xlarge";
  s.load.levels = {1, 4};
  s.duration_s = 30;
  check_golden("closed_tgis_7b_g5_2xlarge", {s});
}

TEST(GoldenSummary, OpenLoopTgisSmall) {
  Scenario s;
  s.deployment.model = "meta-llama/Llama-2-13b-hf";
  s.deployment.instance = "g5.12xlarge";
  s.load.type = "open";
  s.load.levels = {0.5};
  s.load.arrival = "gamma:2";
  s.duration_s = 30;
  check_golden("open_tgis_13b_g5_12xlarge", {s});
}

}  // namespace
}  // namespace servetwin
