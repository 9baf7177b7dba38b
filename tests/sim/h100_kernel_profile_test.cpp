// The shipped H100-SXM profile's GEMM terms (gemm_eff_max, gemm_m_half_tokens, gemm_bw_eff) were fitted
// to BLIS's per-layer GEMM kernel profiles of vLLM 0.14 on H100 SXM
// (../shared/reference/hardware_and_models.md §5.2; experiments of BLIS's train/val set, which
// `servetwin validate` does not score). This test keeps the profile consistent with that source: the
// cost model's per-layer GEMM time must match the 42 published points with median APE <= 10 % (the
// issue-7 GEMM bar; the fit itself reached 3.5 %) and every point within 30 % (the worst fitted
// point, Mistral-Nemo TP1 at 4096 tokens, is -26 %: that profile's 4096-token entry runs at 59 % of
// peak while its 1024-token entry runs at 82 %).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/cost_model.hpp"

namespace servetwin {
namespace {

struct KernelProfile {
  const char* model;
  int tp;
  std::vector<double> layer_gemm_us;  // at 1, 8, 64, 256, 512, 1024, 4096 tokens
};

TEST(H100KernelProfile, ProfileGemmTermsReproduceVllmKernelProfiles) {
  const Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  const std::vector<double> tokens{1, 8, 64, 256, 512, 1024, 4096};
  const std::vector<KernelProfile> profiles{
      {"meta-llama/Llama-2-7b-hf", 1, {152, 150, 154, 181, 259, 504, 2059}},
      {"Qwen/Qwen2.5-7B", 1, {167, 169, 181, 204, 303, 641, 2464}},
      {"mistralai/Mistral-Nemo-Base-2407", 1, {191, 192, 203, 226, 343, 690, 3858}},
      {"mistralai/Mistral-Nemo-Base-2407", 2, {103, 104, 104, 125, 186, 339, 1325}},
      {"01-ai/Yi-34B", 2, {195, 198, 205, 228, 353, 873, 3008}},
      {"meta-llama/Llama-3.1-70B", 4, {153, 156, 159, 176, 280, 532, 2652}}};
  const GpuSpec& gpu = catalog.gpu("H100-SXM");
  std::vector<double> ape;
  for (const auto& p : profiles) {
    const ModelSpec& m = catalog.model(p.model);
    const CostModel cost(m, gpu, catalog.profile(gpu.name), catalog.interconnect("nvswitch-h100"), p.tp, "fp16",
                         EngineCostParams{});
    const double h = m.hidden_size, hd = m.head_dim;
    const double q = static_cast<double>(m.num_attention_heads) / p.tp;
    const double kv = std::max(1.0, static_cast<double>(m.num_kv_heads) / p.tp);
    const double f = static_cast<double>(m.intermediate_size) / p.tp;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const double t = tokens[i];
      const double layer_us = (cost.gemm_ns(t, h, (q + 2 * kv) * hd) + cost.gemm_ns(t, q * hd, h) +
                               cost.gemm_ns(t, h, 2 * f) + cost.gemm_ns(t, f, h)) / 1e3;
      const double err = layer_us / p.layer_gemm_us[i] - 1;
      std::printf("%-34s TP%d %5.0f tokens: predicted %7.1f us, published %7.1f us (%+.1f%%)\n", p.model, p.tp, t,
                  layer_us, p.layer_gemm_us[i], 100 * err);
      EXPECT_LT(std::fabs(err), 0.30) << p.model << " TP" << p.tp << " at " << t << " tokens";
      ape.push_back(std::fabs(err));
    }
  }
  std::sort(ape.begin(), ape.end());
  const double median = 0.5 * (ape[ape.size() / 2 - 1] + ape[ape.size() / 2]);
  std::printf("median APE %.1f%% over %zu points\n", 100 * median, ape.size());
  EXPECT_LE(median, 0.10);
}

}  // namespace
}  // namespace servetwin
