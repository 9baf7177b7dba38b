// The shared eager-execution and all-reduce models (sim/cost/eager_overhead.hpp, collective_cost.hpp):
// operations counted per layer by architecture, all-reduce time against TP degree, bytes and
// interconnect, and the rule that a CUDA-graph preset pays no host dispatch per layer.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/collective_cost.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/cost/eager_overhead.hpp"
#include "sim/engine/engine_registry.hpp"
#include "sim/engine/engine_settings.hpp"

namespace servetwin {
namespace {

const Catalog& catalog() {
  static const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  return c;
}

// Llama layer (header list): norm 2, QKV 1, views 3, rotary 1, KV write 1, attention 2, o-proj 1; norm 2,
// gate/up 1, SiLU-and-mul 2, down 1 = 17 operations, 10 kernels; 2 all-reduces under TP.
TEST(EagerLayerOps, DenseLlamaLayerCountsEveryOperation) {
  const ModelSpec& m = catalog().model("llama-2-7b");
  const EagerLayerOps tp1 = eager_layer_ops(m, 1, 1);
  EXPECT_DOUBLE_EQ(tp1.host_ops, 17);
  EXPECT_DOUBLE_EQ(tp1.kernels, 10);
  EXPECT_DOUBLE_EQ(tp1.allreduces, 0);
  const EagerLayerOps tp8 = eager_layer_ops(m, 8, 1);
  EXPECT_DOUBLE_EQ(tp8.host_ops, 17);
  EXPECT_DOUBLE_EQ(tp8.allreduces, 2);
  // A dense layer's count does not depend on the batch.
  EXPECT_DOUBLE_EQ(eager_layer_ops(m, 1, 256).host_ops, 17);
}

// OPT: learned positions (no rotary) and a plain 2-matrix MLP (fc1, activation, fc2).
TEST(EagerLayerOps, PlainMlpWithoutRotary) {
  const ModelSpec& m = catalog().model("opt-13b");
  const EagerLayerOps ops = eager_layer_ops(m, 1, 1);
  EXPECT_DOUBLE_EQ(ops.host_ops, 15);
  EXPECT_DOUBLE_EQ(ops.kernels, 9);
}

// Mixtral: router (5) + 8 operations per expert the tokens route to; one token touches its top-2 experts,
// a large batch all 8.
TEST(EagerLayerOps, MoeLayerCountsRouterAndTouchedExperts) {
  const ModelSpec& m = catalog().model("mixtral-8x7b");
  ASSERT_EQ(m.num_experts, 8);
  ASSERT_EQ(m.experts_per_token, 2);
  const double attention_and_norms = 17 - 4;  // the dense Llama layer less its gated MLP
  EXPECT_NEAR(eager_layer_ops(m, 1, 1).host_ops, attention_and_norms + 5 + 2 * 8, 1e-9);
  EXPECT_NEAR(eager_layer_ops(m, 1, 4096).host_ops, attention_and_norms + 5 + 8 * 8, 1e-6);
  EXPECT_GT(eager_layer_ops(m, 1, 4).host_ops, eager_layer_ops(m, 1, 1).host_ops);
  // More operations than a dense layer at any batch.
  EXPECT_GT(eager_layer_ops(m, 1, 1).host_ops, eager_layer_ops(catalog().model("llama-2-7b"), 1, 1).host_ops);
}

TEST(EagerLayerOps, DispatchTimeIsOperationsTimesHostCostPlusNcclCalls) {
  const ModelSpec& m = catalog().model("llama-2-70b");
  const EagerHostCosts costs{30'000, 20'000};
  EXPECT_DOUBLE_EQ(eager_layer_dispatch_ns(m, 1, 1, costs), 17 * 30'000.0);
  EXPECT_DOUBLE_EQ(eager_layer_dispatch_ns(m, 8, 1, costs), 19 * 30'000.0 + 2 * 20'000.0);
  EXPECT_DOUBLE_EQ(eager_layer_dispatch_ns(m, 8, 1, EagerHostCosts{}), 0);
}

TEST(AllReduceCost, MonotoneInBytesAndTpAndNvSwitchBeatsPcie) {
  const InterconnectSpec& nvs = catalog().interconnect("nvswitch-a100");
  const InterconnectSpec& pcie = catalog().interconnect("pcie4-g5");
  EXPECT_EQ(AllReduceCost(nvs, 1, 0).ns(1e6), 0);
  for (const double bytes : {8.0e3, 1.6e4, 1.0e6, 6.7e7}) {
    SCOPED_TRACE(bytes);
    double previous_tp = 0;
    for (const int tp : {2, 4, 8}) {
      const AllReduceCost nv(nvs, tp, 0), pc(pcie, tp, 0);
      EXPECT_GT(nv.ns(bytes * 2), nv.ns(bytes));  // more bytes, more time
      EXPECT_LT(nv.ns(bytes), pc.ns(bytes));      // NVSwitch faster than PCIe through host memory
      EXPECT_GT(pc.ns(bytes), previous_tp);       // longer ring, more time (PCIe: latency and bandwidth)
      previous_tp = pc.ns(bytes);
    }
  }
  // NVSwitch: the measured small-message latency grows with the ring (Vidur a100_dgx 16 KB: 18 us at
  // TP4, 26 us at TP8; nccl#583 2 GPUs 10.1 us).
  EXPECT_LT(AllReduceCost(nvs, 2, 0).ns(16384), AllReduceCost(nvs, 4, 0).ns(16384));
  EXPECT_LT(AllReduceCost(nvs, 4, 0).ns(16384), AllReduceCost(nvs, 8, 0).ns(16384));
}

TEST(AllReduceCost, CustomKernelOnlyWhereTheTopologyAllowsIt) {
  const InterconnectSpec& nvs = catalog().interconnect("nvswitch-a100");
  const InterconnectSpec& pcie = catalog().interconnect("pcie4-g5");
  EXPECT_LT(AllReduceCost(nvs, 8, 8 << 20).ns(16384), AllReduceCost(nvs, 8, 0).ns(16384));
  EXPECT_EQ(AllReduceCost(nvs, 8, 8 << 20).ns(64e6), AllReduceCost(nvs, 8, 0).ns(64e6));  // over the size limit
  EXPECT_EQ(AllReduceCost(pcie, 4, 8 << 20).ns(16384), AllReduceCost(pcie, 4, 0).ns(16384));  // PCIe TP4: NCCL
}

EngineCostParams preset_costs(const std::string& preset, const std::string& gpu_name) {
  const GpuSpec& gpu = catalog().gpu(gpu_name);
  EngineSettings settings(catalog().engine(preset), {});
  return read_engine_cost_params(settings, gpu, catalog().profile(gpu.name));
}

// Every eager preset gets the platform's host cost; every CUDA-graph preset none, whatever the profile.
TEST(EagerPresets, GraphPresetsHaveNoLaunchTermEagerPresetsHaveTheProfiles) {
  for (const auto& [name, spec] : catalog().engines) {
    SCOPED_TRACE(name);
    const EngineCostParams p = preset_costs(name, "A100-40GB-SXM");
    if (p.graph_decode) {
      EXPECT_FALSE(p.eager.enabled());
      EXPECT_EQ(p.cpu_layer_ns, 0);
    } else {
      EXPECT_DOUBLE_EQ(p.eager.host_op_ns, catalog().profile("A100-40GB-SXM").host_op_ns.value);
      EXPECT_DOUBLE_EQ(p.eager.allreduce_host_ns, kNcclCallHostNs);
    }
  }
  for (const char* eager : {"tgis-rhoai-2024q1", "tgi-1.0", "vllm-0.2-distserve", "vllm-static-eager-2023"}) {
    EXPECT_FALSE(preset_costs(eager, "A10G").graph_decode) << eager;
  }
}

// A decode step of a graph preset costs the same whatever host_op_ns the profile has; an eager preset's
// CPU-bound step grows with it.
TEST(EagerPresets, GraphDecodeStepIgnoresTheHostCost) {
  const ModelSpec& m = catalog().model("llama-2-7b");
  const GpuSpec& g = catalog().gpu("A100-40GB-SXM");
  HardwareProfile slow_host = catalog().profile(g.name);
  slow_host.host_op_ns.value *= 10;
  StepShape s;
  s.decode_seqs = 1;
  s.decode_kv_tokens = 500;
  s.lm_head_tokens = 1;
  const auto step_ns = [&](const std::string& preset, const HardwareProfile& profile) {
    EngineSettings settings(catalog().engine(preset), {});
    const EngineCostParams p = read_engine_cost_params(settings, g, profile);
    return CostModel(m, g, profile, catalog().interconnect("nvswitch-a100"), 8, "fp16", p).step(s).total_ns;
  };
  EXPECT_EQ(step_ns("vllm-0.6-v0", catalog().profile(g.name)), step_ns("vllm-0.6-v0", slow_host));
  EXPECT_GT(step_ns("tgi-1.0", slow_host), step_ns("tgi-1.0", catalog().profile(g.name)));
}

}  // namespace
}  // namespace servetwin
