// The cost model against the roofline (issue 17 item 2): on every GPU with a hardware profile, a
// predicted step is never faster than reading its bytes at datasheet bandwidth nor than doing its
// FLOPs at datasheet peak, and a large decode batch stays within a stated factor of that bound.
#include <gtest/gtest.h>

#include <filesystem>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/roofline_bounds.hpp"
#include "sim/engine/engine_registry.hpp"
#include "sim/engine/engine_settings.hpp"

namespace servetwin {
namespace {

// At batch >= 128 a decode step is bound by memory: weights plus KV. The lowest decode-attention
// bandwidth efficiency in any shipped profile is A10G's 0.50 (configs/profiles/a10g.yaml), which
// alone puts the KV term at 2x its bound; 10% more covers elementwise kernels and launch gaps.
// A step beyond this factor has a term that does not scale with bytes or FLOPs.
constexpr double kLargeBatchMaxRatio = 2.2;
constexpr std::int64_t kContextTokens = 1024;

Catalog shipped() { return Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs"); }

CostModel vllm_cost_model(const Catalog& c, const GpuSpec& gpu, const std::string& model) {
  EngineSettings settings(c.engine("vllm-0.15"), {});
  return CostModel(c.model(model), gpu, c.profile(gpu.name), c.interconnect("none"), 1, "fp16",
                   read_engine_cost_params(settings, gpu, c.profile(gpu.name)));
}

TEST(RooflineBounds, DecodeStepRespectsTheRooflineOnEveryProfiledGpu) {
  const Catalog c = shipped();
  int checked = 0;
  for (const auto& [name, gpu] : c.gpus) {
    if (!c.has_profile(name)) continue;
    SCOPED_TRACE(name);
    const CostModel cost = vllm_cost_model(c, gpu, "meta-llama/Llama-2-7b-hf");
    const ModelSpec& model = c.model("meta-llama/Llama-2-7b-hf");
    for (const std::int64_t batch : {1, 32, 128, 256}) {
      SCOPED_TRACE(batch);
      const StepShape s = decode_step_shape(batch, kContextTokens);
      const double t = cost.step(s).total_ns;
      const RooflineBounds b = roofline_bounds(model, gpu, cost, "fp16", s);
      EXPECT_GE(t, b.memory_ns);
      EXPECT_GE(t, b.compute_ns);
      EXPECT_GE(t, b.serial_ns);
      if (batch >= 128) {
        EXPECT_LE(t, kLargeBatchMaxRatio * b.bound_ns());
      }
      const StepShape mixed = mixed_step_shape(batch, kContextTokens, 512);
      const RooflineBounds bm = roofline_bounds(model, gpu, cost, "fp16", mixed);
      EXPECT_GE(cost.step(mixed).total_ns, bm.serial_ns);
      EXPECT_GE(bm.serial_ns, bm.bound_ns());
    }
    ++checked;
  }
  EXPECT_GE(checked, 9);  // A10G, L4, L40S, A100-40/80, H100 SXM/PCIe, H200, B200 (A10, MI300X: no profile)
}

TEST(RooflineBounds, BoundsMatchHandArithmeticForLlama2On7bA100) {
  const Catalog c = shipped();
  const GpuSpec& gpu = c.gpu("A100-80GB-SXM");
  const CostModel cost = vllm_cost_model(c, gpu, "meta-llama/Llama-2-7b-hf");
  const StepShape s = decode_step_shape(32, kContextTokens);
  const RooflineBounds b = roofline_bounds(c.model("meta-llama/Llama-2-7b-hf"), gpu, cost, "fp16", s);
  // Llama-2-7B: 32 layers of (4096 x 3*4096 + 4096 x 4096 + 3 x 4096 x 11008) weights, 32,000 x 4096
  // embedding and LM head, fp16; KV 32 layers x 2 x 4096 x 2 bytes = 512 KiB per token.
  const double layer_params = 4096.0 * 4096 * 4 + 3.0 * 4096 * 11008;
  const double weights = 2 * (32 * layer_params + 2 * 32000.0 * 4096);
  const double kv_bytes = 32.0 * kContextTokens * 524288;
  EXPECT_NEAR(b.memory_bytes, weights + kv_bytes, 1e-3 * b.memory_bytes);  // norms' few MB aside
  const double flops = 2 * (32 * layer_params * 32 + 32 * 4096.0 * 32000 + 32 * 2.0 * 32 * kContextTokens * 4096);
  EXPECT_NEAR(b.flops, flops, 1e-9 * flops);
  EXPECT_NEAR(b.memory_ns, b.memory_bytes / 2.039e12 * 1e9, 1e-6 * b.memory_ns);
  EXPECT_NEAR(b.compute_ns, flops / 312e12 * 1e9, 1e-6 * b.compute_ns);
}

TEST(RooflineBounds, MixtureOfExpertsIsRefused) {
  const Catalog c = shipped();
  const GpuSpec& gpu = c.gpu("H100-SXM");
  EngineSettings settings(c.engine("vllm-0.15"), {});
  const CostModel cost(c.model("mixtral-8x7b"), gpu, c.profile(gpu.name), c.interconnect("nvswitch-h100"), 2, "fp16",
                       read_engine_cost_params(settings, gpu, c.profile(gpu.name)));
  EXPECT_THROW((void)roofline_bounds(c.model("mixtral-8x7b"), gpu, cost, "fp16", decode_step_shape(1, 1)),
               ConfigError);
}

}  // namespace
}  // namespace servetwin
