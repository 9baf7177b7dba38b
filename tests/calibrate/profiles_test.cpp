// Issue 7, deliverable 5: every GPU the issue lists ships a hardware profile in configs/profiles, and
// every profile parameter carries a provenance (measured / fitted / datasheet / assumed) and a source.
// Checked on the typed profile (the nine cost-model parameters) and on the parsed document, so that a
// parameter added to the format later is covered too.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {
namespace {

const std::vector<std::string> kProvenances{"measured", "fitted", "datasheet", "assumed"};

// The issue's list, as catalog GPU names or aliases.
const std::vector<std::string> kIssueGpus{"A10G", "L4", "L40S", "A100-40GB-SXM", "A100-80GB-SXM",
                                          "H100-SXM", "H100-PCIe", "H200"};

TEST(Profiles, EveryIssueGpuHasAProfileWithProvenanceAndSource) {
  const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  for (const auto& name : kIssueGpus) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(c.has_gpu(name)) << "GPU missing from configs/gpus";
    const std::string gpu = c.resolve("gpus", name);
    ASSERT_TRUE(c.has_profile(gpu)) << "no hardware profile in configs/profiles";
    const HardwareProfile& p = c.profile(gpu);
    EXPECT_EQ(p.gpu, gpu);
    const std::vector<std::pair<const char*, const Param*>> params{
        {"gemm_eff_max", &p.gemm_eff_max},
        {"gemm_m_half_tokens", &p.gemm_m_half_tokens},
        {"gemm_bw_eff", &p.gemm_bw_eff},
        {"attn_prefill_flops_eff", &p.attn_prefill_flops_eff},
        {"attn_decode_bw_eff", &p.attn_decode_bw_eff},
        {"elementwise_bw_eff", &p.elementwise_bw_eff},
        {"step_overhead_ns", &p.step_overhead_ns},
        {"layer_overhead_ns", &p.layer_overhead_ns},
        {"copy_bw_eff", &p.copy_bw_eff}};
    for (const auto& [key, q] : params) {
      SCOPED_TRACE(key);
      EXPECT_NE(std::find(kProvenances.begin(), kProvenances.end(), q->provenance), kProvenances.end())
          << "provenance '" << q->provenance << "'";
      EXPECT_FALSE(q->source.empty()) << "no source";
    }
    // The parsed document: every {value: ...} entry, including any added later, has both.
    const auto& doc = c.document("profiles", gpu);
    std::size_t valued = 0;
    for (const auto& [key, v] : doc.items()) {
      if (!v.is_object() || !v.contains("value")) continue;
      ++valued;
      SCOPED_TRACE(key);
      ASSERT_TRUE(v.contains("provenance") && v["provenance"].is_string());
      EXPECT_NE(std::find(kProvenances.begin(), kProvenances.end(), v["provenance"].get<std::string>()),
                kProvenances.end());
      ASSERT_TRUE(v.contains("source") && v["source"].is_string());
      EXPECT_FALSE(v["source"].get<std::string>().empty());
    }
    EXPECT_GE(valued, params.size()) << "document lists fewer parameters than the typed profile";
  }
}


// A parameter whose source says it is "assumed: as <GPU>" (a sibling's value carried over) must hold
// that sibling's current value: when the sibling is re-fitted, the copies follow. (H200 and H100-PCIe
// carried H100-SXM's pre-fit 0.51 decode-attention efficiency after H100-SXM was fitted to 0.70.)
TEST(Profiles, CopiedParametersFollowTheirSibling) {
  const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  const std::string marker = "assumed: as ";
  std::size_t checked = 0;
  for (const auto& gpu : c.names("profiles")) {
    const auto doc = c.document("profiles", gpu);
    for (const auto& [key, v] : doc.items()) {
      if (!v.is_object() || !v.contains("source") || !v["source"].is_string()) continue;
      const std::string source = v["source"].get<std::string>();
      if (source.rfind(marker, 0) != 0) continue;
      // The sibling's exact profile name, ended by a space, comma or parenthesis ("as H100-SXM (same die").
      const std::string rest = source.substr(marker.size());
      const std::string sibling = rest.substr(0, rest.find_first_of(" ,("));
      const auto names = c.names("profiles");
      if (std::find(names.begin(), names.end(), sibling) == names.end() || sibling == gpu) continue;
      const auto other = c.document("profiles", sibling);
      if (!other.contains(key)) continue;
      SCOPED_TRACE(gpu + "." + key + " as " + sibling);
      EXPECT_EQ(v["value"], other[key]["value"]);
      ++checked;
    }
  }
  EXPECT_GE(checked, 9U) << "expected the H200 and H100-PCIe copies of H100-SXM to be checked";
}

}  // namespace
}  // namespace servetwin::calibrate
