// A multi-GPU deployment that names no instance runs on its GPU's server interconnect where the catalog names one
// (configs/gpus server_interconnect: L40S -> pcie4-p2p), not on the smallest cloud instance's; a named instance, a
// single GPU and a GPU without one are unchanged. Validate rows go through the same resolution, and say so in their
// notes (docs/out_of_sample.md, docs/configs.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/catalog/catalog.hpp"
#include "sim/scenario/deployment.hpp"
#include "sim/validate/row_mapping.hpp"
#include "sim/validate/validate.hpp"
#include "sim/validate/validation_csv.hpp"

namespace servetwin {
namespace {

const std::filesystem::path kSource = SERVETWIN_SOURCE_DIR;
const std::filesystem::path kFixture = kSource / "tests" / "data" / "validate" / "server_interconnect.csv";

const Catalog& catalog() {
  static const Catalog c = Catalog::load(kSource / "configs");
  return c;
}

// The interconnect the row's replica runs on, after the CLI's own deployment resolution.
std::string interconnect_of(const std::string& id, std::string* notes = nullptr) {
  static const ValidationPolicy policy = load_checked_policy(catalog(), "");
  for (const auto& row : read_validation_csv(kFixture)) {
    if (row.get("source_id") != id) continue;
    const RowMapping m = map_row(catalog(), policy, row, kFixture.parent_path());
    if (!m.scenario) return "unsupported: " + m.reason;
    if (notes != nullptr) {
      for (const auto& n : m.notes) *notes += n + "\n";
    }
    return resolve_deployment(catalog(), m.scenario->deployment).interconnect;
  }
  return "no fixture row " + id;
}

TEST(ServerInterconnect, MultiGpuL40sWithoutInstanceRunsOnPcieP2p) {
  std::string notes;
  EXPECT_EQ(interconnect_of("l40s:tp4-no-instance", &notes), "pcie4-p2p");
  EXPECT_NE(notes.find("no instance: 4 x L40S on interconnect pcie4-p2p (configs/gpus server_interconnect)"),
            std::string::npos)
      << notes;
}

TEST(ServerInterconnect, NamedInstanceSingleGpuAndOtherGpusAreUnchanged) {
  EXPECT_EQ(interconnect_of("l40s:tp4-g6e"), "pcie4-g6e");
  EXPECT_EQ(interconnect_of("l40s:tp1-no-instance"), "none");
  EXPECT_EQ(interconnect_of("a100:tp4-no-instance"), "nvswitch-a100");
}

// What predict, sweep and plan resolve for --gpu/--instance/--tp, without any validation row.
std::string predict_interconnect(const std::string& gpu, const std::string& instance, int tp) {
  DeploymentConfig d;
  d.model = "meta-llama/Meta-Llama-3-70B";
  d.gpu = gpu;
  d.instance = instance;
  d.tp = tp;
  d.engine = "vllm-0.15";
  return resolve_deployment(catalog(), d).interconnect;
}

TEST(ServerInterconnect, PredictWithoutInstanceUsesTheGpusServerInterconnect) {
  EXPECT_EQ(predict_interconnect("l40s", "", 4), "pcie4-p2p");
  EXPECT_EQ(predict_interconnect("l40s", "", 8), "pcie4-p2p");
  EXPECT_EQ(predict_interconnect("", "g6e.12xlarge", 4), "pcie4-g6e");
  EXPECT_EQ(predict_interconnect("l40s", "", 1), "none");
  // GPUs without server_interconnect keep the smallest catalogued instance's.
  EXPECT_EQ(predict_interconnect("A100-80GB-SXM", "", 4), "nvswitch-a100");
  EXPECT_EQ(predict_interconnect("a10g", "", 4), catalog().instance("g5.12xlarge").interconnect);
}

// The shipped catalog with gpus/l40s.yaml's server_interconnect replaced by `value`; returns the load error.
std::string load_error_with_l40s_server_interconnect(const std::string& value) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "servetwin_server_interconnect_test";
  std::filesystem::remove_all(dir);
  std::filesystem::copy(kSource / "configs", dir, std::filesystem::copy_options::recursive);
  std::stringstream buffer;
  buffer << std::ifstream(dir / "gpus" / "l40s.yaml").rdbuf();
  std::string text = buffer.str();
  const std::string key = "server_interconnect: pcie4-p2p";
  const std::size_t at = text.find(key);
  if (at == std::string::npos) return "shipped l40s.yaml has no '" + key + "'";
  text.replace(at, key.size(), "server_interconnect: " + value);
  std::ofstream(dir / "gpus" / "l40s.yaml") << text;
  std::string what = "no error";
  try {
    (void)Catalog::load(dir);
  } catch (const ConfigError& e) {
    what = e.what();
  }
  std::filesystem::remove_all(dir);
  return what;
}

TEST(ServerInterconnect, UnknownOrSingleGpuServerInterconnectNamesTheFileAndKey) {
  const std::string unknown = load_error_with_l40s_server_interconnect("pcie9-x");
  EXPECT_NE(unknown.find("l40s.yaml"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("server_interconnect"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("unknown interconnect 'pcie9-x'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("pcie4-p2p"), std::string::npos) << unknown;  // the allowed names are listed
  const std::string single = load_error_with_l40s_server_interconnect("none");
  EXPECT_NE(single.find("'none' is single-GPU"), std::string::npos) << single;
}

}  // namespace
}  // namespace servetwin
