// decode_kv_reads (configs/engines/trtllm-0.7-static.yaml): a decode attention kernel that runs per
// query head (TensorRT-LLM's masked MHA before XQA, v0.8) reads a GQA model's cache once per query head
// of the group, so decode attention costs group-size times the bytes; an MHA model (group size 1) and
// every other term are unchanged. TensorRT-LLM static-batch rows up to 0.7 map to that preset; later and
// unstated versions keep vllm-static-batch.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/validate/row_preset.hpp"
#include "sim/validate/validation_policy.hpp"
#include "tests/sim/step_shapes.hpp"

namespace servetwin {
namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  return c;
}

TEST(DecodeKvReads, PerQueryHeadMultipliesDecodeAttentionByTheGroupSize) {
  const ModelSpec& m = catalog().model("meta-llama/Llama-2-70b-hf");
  const GpuSpec& g = catalog().gpu("H100-SXM");
  ASSERT_EQ(m.num_attention_heads / m.num_kv_heads, 8);  // Llama-2-70B: 64 query heads, 8 KV heads
  EngineCostParams per_kv, per_q;
  per_q.decode_kv_per_query_head = true;
  const CostModel a(m, g, catalog().profile(g.name), catalog().interconnect("nvswitch-h100"), 4, "fp16", per_kv);
  const CostModel b(m, g, catalog().profile(g.name), catalog().interconnect("nvswitch-h100"), 4, "fp16", per_q);
  const StepCost ca = a.step(testing::decode_step_64x2000()), cb = b.step(testing::decode_step_64x2000());
  EXPECT_NEAR(cb.attention_ns, 8 * ca.attention_ns, 1e-9 * cb.attention_ns);
  EXPECT_DOUBLE_EQ(cb.gemm_ns, ca.gemm_ns);
  EXPECT_DOUBLE_EQ(cb.comm_ns, ca.comm_ns);
  EXPECT_GT(cb.total_ns, ca.total_ns);
  // Prefill attention (a fused multi-head kernel in every era) does not change.
  const StepShape prefill = testing::prefill_step_1000();
  EXPECT_DOUBLE_EQ(b.step(prefill).total_ns, a.step(prefill).total_ns);
}

TEST(DecodeKvReads, MultiHeadModelIsUnchanged) {
  const ModelSpec& m = catalog().model("meta-llama/Llama-2-7b-hf");
  ASSERT_EQ(m.num_attention_heads, m.num_kv_heads);
  const GpuSpec& g = catalog().gpu("A100-80GB");
  EngineCostParams per_kv, per_q;
  per_q.decode_kv_per_query_head = true;
  const CostModel a(m, g, catalog().profile(g.name), catalog().interconnect("none"), 1, "fp16", per_kv);
  const CostModel b(m, g, catalog().profile(g.name), catalog().interconnect("none"), 1, "fp16", per_q);
  EXPECT_DOUBLE_EQ(b.step(testing::decode_step_64x2000()).total_ns, a.step(testing::decode_step_64x2000()).total_ns);
}

std::string preset_for(const std::string& version) {
  const ValidationPolicy policy =
      load_validation_policy(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs" / "validation");
  ValidationRow row;
  row.file = "toy.csv";
  row.cells = {{"source_id", "toy:a"}, {"engine", "trtllm"}, {"engine_version", version}};
  const PresetChoice c = choose_preset(policy, row, "trtllm", "static_batch");
  return c.preset.empty() ? "reason: " + c.reason : c.preset;
}

TEST(DecodeKvReads, TensorRtLlmStaticRowsChooseTheirEra) {
  EXPECT_EQ(preset_for("0.5"), "trtllm-0.7-static");
  EXPECT_EQ(preset_for("0.6.1"), "trtllm-0.7-static");
  EXPECT_EQ(preset_for("0.7.1"), "trtllm-0.7-static");
  EXPECT_EQ(preset_for("0.8.0"), "vllm-static-batch");
  EXPECT_EQ(preset_for("1.0"), "vllm-static-batch");
  EXPECT_EQ(preset_for(""), "vllm-static-batch");
  EXPECT_EQ(catalog().engine("trtllm-0.7-static").text_settings.at("decode_kv_reads"), "per_query_head");
}

}  // namespace
}  // namespace servetwin
