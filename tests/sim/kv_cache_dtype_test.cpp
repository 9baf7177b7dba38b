// kv_cache_dtype (vLLM --kv-cache-dtype, TensorRT-LLM FP8 KV): an FP8 cache stores one byte per element,
// so a token's KV is half the bytes, the cache holds twice the tokens, and decode attention reads half
// the bytes; GEMMs and prefill attention FLOPs do not change.
#include <gtest/gtest.h>

#include <filesystem>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/cost_model.hpp"

namespace servetwin {
namespace {

TEST(KvCacheDtype, Fp8HalvesKvBytesAndDecodeAttentionOnly) {
  const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  const ModelSpec& m = c.model("meta-llama/Llama-3.1-8B");
  const GpuSpec& g = c.gpu("H100-SXM");
  EngineCostParams fp16, fp8;
  fp8.kv_elem_bytes = 1;
  const CostModel a(m, g, c.profile(g.name), c.interconnect("none"), 1, "fp8", fp16);
  const CostModel b(m, g, c.profile(g.name), c.interconnect("none"), 1, "fp8", fp8);
  EXPECT_DOUBLE_EQ(b.kv_bytes_per_token_per_gpu() * 2, a.kv_bytes_per_token_per_gpu());
  StepShape decode;
  decode.decode_seqs = 64;
  decode.decode_kv_tokens = 64 * 2000;
  decode.lm_head_tokens = 64;
  EXPECT_NEAR(b.step(decode).attention_ns * 2, a.step(decode).attention_ns, 1e-6 * a.step(decode).attention_ns);
  EXPECT_DOUBLE_EQ(b.step(decode).gemm_ns, a.step(decode).gemm_ns);
  StepShape prefill;
  prefill.prefill_seqs = 1;
  prefill.prefill_tokens = 1000;
  prefill.prefill_attn_pairs = 1000 * 500.5;
  prefill.lm_head_tokens = 1;
  EXPECT_DOUBLE_EQ(b.step(prefill).total_ns, a.step(prefill).total_ns);
}

}  // namespace
}  // namespace servetwin
