// Interleaved mixture-of-experts models (Llama 4 Maverick: every second layer MoE, dense MLPs between):
// the cost model's average layer must be exactly the mean of an all-MoE and an all-dense model with the
// same attention, in weight bytes and in step GEMM time, at decode and prefill batch shapes.
#include <gtest/gtest.h>

#include <filesystem>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/cost_model.hpp"

namespace servetwin {
namespace {

TEST(InterleavedMoeCost, AverageLayerIsTheMeanOfTheMoeAndDenseLayers) {
  const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  const ModelSpec& mixed = c.model("llama-4-maverick");
  ASSERT_EQ(mixed.moe_layer_step, 2);
  ModelSpec all_moe = mixed;
  all_moe.moe_layer_step = 1;
  ModelSpec all_dense = mixed;
  all_dense.num_experts = 0;
  all_dense.experts_per_token = 0;
  all_dense.shared_experts = 0;
  all_dense.moe_layer_step = 1;
  all_dense.intermediate_size = mixed.dense_intermediate_size;
  const GpuSpec& g = c.gpu("H100-SXM");
  const auto model = [&](const ModelSpec& m) {
    return CostModel(m, g, c.profile(g.name), c.interconnect("nvswitch-h100"), 8, "fp8", EngineCostParams{});
  };
  const CostModel a = model(mixed), moe = model(all_moe), dense = model(all_dense);
  EXPECT_NEAR(a.weight_bytes_per_gpu(), (moe.weight_bytes_per_gpu() + dense.weight_bytes_per_gpu()) / 2,
              1e-9 * a.weight_bytes_per_gpu());
  for (const std::int64_t tokens : {1, 64, 4096}) {
    SCOPED_TRACE(tokens);
    StepShape s;
    if (tokens <= 64) {
      s.decode_seqs = tokens;
      s.decode_kv_tokens = tokens * 1000;
    } else {
      s.prefill_seqs = 1;
      s.prefill_tokens = tokens;
      s.prefill_attn_pairs = static_cast<double>(tokens) * (static_cast<double>(tokens) + 1) / 2;
    }
    s.lm_head_tokens = s.decode_seqs + s.prefill_seqs;
    const double mixed_gemm = a.step(s).gemm_ns;
    EXPECT_NEAR(mixed_gemm, (moe.step(s).gemm_ns + dense.step(s).gemm_ns) / 2, 1e-9 * mixed_gemm);
    // And the interleaved model is strictly between the two (the MoE layers read more weights).
    EXPECT_LT(dense.step(s).gemm_ns, mixed_gemm);
    EXPECT_LT(mixed_gemm, moe.step(s).gemm_ns);
  }
}

}  // namespace
}  // namespace servetwin
