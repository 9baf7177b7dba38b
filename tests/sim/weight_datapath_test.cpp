// Weight datapaths (sim/cost/weight_datapath.hpp): NVFP4 weights are 4-bit values plus one FP8 scale per 16
// (0.5625 bytes per element) and run at the FP4 tensor peak, only on a GPU that has FP4 tensor cores; every
// other GPU refuses them with the dtypes it can run.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/cost/weight_datapath.hpp"

namespace servetwin {
namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  return c;
}

std::string error_of(const GpuSpec& gpu, const std::string& dtype) {
  try {
    (void)weight_datapath(gpu, dtype);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(WeightDatapath, Nvfp4IsHalfAByteAndAScalePerSixteenAtTheFp4Peak) {
  const GpuSpec& b200 = catalog().gpu("B200");
  ASSERT_GT(b200.peak_fp4_flops, 0);
  const WeightDatapath fp4 = weight_datapath(b200, "fp4"), fp8 = weight_datapath(b200, "fp8");
  EXPECT_DOUBLE_EQ(fp4.elem_bytes, 0.5625);
  EXPECT_DOUBLE_EQ(fp8.elem_bytes, 1.0);
  EXPECT_DOUBLE_EQ(fp4.peak_flops, b200.peak_fp4_flops);
  EXPECT_DOUBLE_EQ(fp4.peak_flops, 2 * fp8.peak_flops);  // B200 datasheet: 9,000 vs 4,500 dense TFLOPS
  EXPECT_EQ(weight_dtypes_on(b200), "fp16, bf16, fp8, fp4");
}

TEST(WeightDatapath, GpusWithoutTheTensorCoresSayWhatTheyRun) {
  EXPECT_EQ(error_of(catalog().gpu("H100-SXM"), "fp4"),
            "dtype: fp4 is not supported on H100-SXM (no FP4 tensor cores); allowed: fp16, bf16, fp8");
  EXPECT_EQ(error_of(catalog().gpu("A100-80GB-SXM"), "fp8"),
            "dtype: fp8 is not supported on A100-80GB-SXM (no FP8 tensor cores); allowed: fp16, bf16");
  EXPECT_EQ(error_of(catalog().gpu("B200"), "int4"), "dtype: 'int4' is not allowed; allowed: fp16, bf16, fp8, fp4");
}

TEST(WeightDatapath, Fp4WeightsAreReadInFewerBytesAndMultipliedFaster) {
  const ModelSpec& m = catalog().model("meta-llama/Llama-3.3-70B-Instruct");
  const GpuSpec& g = catalog().gpu("B200");
  const CostModel fp8(m, g, catalog().profile(g.name), catalog().interconnect("none"), 1, "fp8", {});
  const CostModel fp4(m, g, catalog().profile(g.name), catalog().interconnect("none"), 1, "fp4", {});
  // Linear weights shrink by 0.5625; the 16-bit norms (a few hundred kB) do not.
  EXPECT_NEAR(fp4.weight_bytes_per_gpu() / fp8.weight_bytes_per_gpu(), 0.5625, 0.001);
  // A decode step of one sequence reads the weights: memory-bound, so time scales with their bytes.
  StepShape decode;
  decode.decode_seqs = 1;
  decode.decode_kv_tokens = 1000;
  decode.lm_head_tokens = 1;
  EXPECT_LT(fp4.step(decode).gemm_ns, 0.6 * fp8.step(decode).gemm_ns);
  // A large prefill is compute-bound: the FP4 peak is twice the FP8 one.
  StepShape prefill;
  prefill.prefill_seqs = 4;
  prefill.prefill_tokens = 8192;
  prefill.prefill_attn_pairs = 4 * 2048 * 1024.5;
  prefill.lm_head_tokens = 4;
  EXPECT_NEAR(fp8.step(prefill).gemm_ns / fp4.step(prefill).gemm_ns, 2.0, 0.05);
}

}  // namespace
}  // namespace servetwin
