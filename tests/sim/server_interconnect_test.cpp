// Multi-GPU rows that name no instance take the server interconnect configs/validation/row_deployment.yaml names for
// their GPU (interconnects_without_instance: L40S -> pcie4-p2p), not the smallest cloud instance's; a row that names
// an instance, a single-GPU row and a GPU without a rule are unchanged (docs/out_of_sample.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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
  EXPECT_NE(notes.find("no instance: 4 x L40S on interconnect pcie4-p2p"), std::string::npos) << notes;
}

TEST(ServerInterconnect, NamedInstanceSingleGpuAndOtherGpusAreUnchanged) {
  EXPECT_EQ(interconnect_of("l40s:tp4-g6e"), "pcie4-g6e");
  EXPECT_EQ(interconnect_of("l40s:tp1-no-instance"), "none");
  EXPECT_EQ(interconnect_of("a100:tp4-no-instance"), "nvswitch-a100");
}

TEST(ServerInterconnect, UnknownInterconnectInTheRuleNamesTheFile) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "servetwin_server_interconnect_test";
  std::filesystem::remove_all(dir);
  std::filesystem::copy(kSource / "configs" / "validation", dir, std::filesystem::copy_options::recursive);
  std::ofstream(dir / "row_deployment.yaml", std::ios::app) << "  - gpus: [A10G]\n    interconnect: pcie9-x\n"
                                                               "    why: test\n";
  try {
    (void)load_checked_policy(catalog(), dir);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("row_deployment.yaml"), std::string::npos) << what;
    EXPECT_NE(what.find("unknown interconnect 'pcie9-x'"), std::string::npos) << what;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace servetwin
