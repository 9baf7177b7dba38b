#pragma once
// CostModel: a pure function from a step's shape to its duration, for one (model, GPU profile,
// interconnect, TP degree, dtype, engine) combination. Physics first:
//  - GEMMs per layer at the per-GPU shapes of a Megatron TP split: max(FLOPs / achieved FLOP/s,
//    weight bytes / achieved bandwidth), achieved FLOP/s rising with the tokens M in the step;
//  - attention: prefill as FLOPs, decode as KV bytes read;
//  - elementwise ops as bytes moved; engine copies as bytes moved;
//  - two all-reduces of [tokens, hidden] per layer under TP (+1 for the vocab-parallel embedding);
//  - overheads: GPU launch gaps (hardware profile) and engine CPU time (engine preset), the latter
//    overlapping GPU work because eager PyTorch launches asynchronously.
#include <cstdint>
#include <string>
#include <vector>

#include "sim/catalog/specs.hpp"
#include "sim/cost/collective_cost.hpp"
#include "sim/cost/eager_overhead.hpp"
#include "sim/cost/step_shape.hpp"

namespace servetwin {

// Engine-dependent CPU costs (from the engine preset).
struct EngineCostParams {
  double cpu_step_ns = 0;        // per step: scheduling, sampling, sync, output processing
  double cpu_layer_ns = 0;       // per layer per step: Python/dispatch time of the layer's ops
  double cpu_seq_ns = 0;         // per sequence per step: sampling, stopping checks, detokenisation
  bool graph_decode = false;     // decode-only steps replay a CUDA graph: no per-layer CPU cost
  // vLLM's custom all-reduce kernel: used for messages up to this size where the interconnect can run
  // it (NVSwitch, or 2 GPUs with P2P); 0 = the engine always uses NCCL (TGIS, TGI).
  double custom_allreduce_max_bytes = 0;
  bool lm_head_all_prompt_tokens = false;  // informational; engines set StepShape::lm_head_tokens
  double kv_elem_bytes = 2;      // KV-cache element size: 2 (fp16/bf16, the engines' default) or 1 (fp8)
  // Fraction of the hardware profile's compute efficiency (GEMM and prefill attention) this software
  // stack reaches: 1 for stacks of the profile's era; below 1 for older kernels on a newer GPU.
  double compute_eff_scale = 1;
  // An overlap scheduler (SGLang 0.4+): the CPU prepares step N+1 and processes step N's output while
  // the GPU runs step N, so per-step and per-sequence CPU time costs only what exceeds the GPU time.
  bool overlap_cpu = false;
  // Eager engines (no CUDA graphs): host cost per operation of each layer, from the platform's host
  // CPU (hardware profile host_op_ns); disabled (0) for CUDA-graph engines.
  EagerHostCosts eager;
};

class CostModel {
 public:
  CostModel(const ModelSpec& model, const GpuSpec& gpu, const HardwareProfile& profile,
            const InterconnectSpec& interconnect, int tp, std::string dtype, EngineCostParams engine);

  [[nodiscard]] StepCost step(const StepShape& s) const;

  // Bytes of weights held by each GPU (embedding and LM head sharded by vocab).
  [[nodiscard]] double weight_bytes_per_gpu() const { return weight_bytes_per_gpu_; }
  // KV-cache bytes per token per GPU (all layers, K and V).
  [[nodiscard]] double kv_bytes_per_token_per_gpu() const { return kv_bytes_per_token_per_gpu_; }
  [[nodiscard]] int tp() const { return tp_; }
  // Set by an engine whose scheduler overlaps CPU work with the GPU (EngineCostParams::overlap_cpu).
  void set_overlap_cpu(bool overlap) { engine_.overlap_cpu = overlap; }
  // All-reduce time for `bytes` at this TP degree (0 at TP1). Public for tests and calibration.
  [[nodiscard]] double allreduce_ns(double bytes) const;
  // GEMM time for an [M x K] x [K x N] product on one GPU.
  [[nodiscard]] double gemm_ns(double m, double k, double n) const;

 private:
  // One MLP (gate+up or up, then down) of per-GPU width `f_local` over `m` tokens: a dense layer's
  // MLP, one routed expert's share or a shared expert.
  [[nodiscard]] double mlp_gemm_ns(double m, double f_local) const;
  [[nodiscard]] double moe_gemm_ns(double m) const;
  // Per-layer linear-layer time and LM-head time for a token count (memoised below kMemoTokens).
  [[nodiscard]] double layer_gemm_ns(std::int64_t tokens) const;
  [[nodiscard]] double lm_head_ns(std::int64_t tokens) const;

  // Pure-function caches (same inputs, same outputs); each engine owns its CostModel, so no sharing.
  static constexpr std::size_t kMemoTokens = 4096;
  mutable std::vector<double> layer_gemm_memo_ = std::vector<double>(kMemoTokens, -1.0);
  mutable std::vector<double> lm_head_memo_ = std::vector<double>(kMemoTokens, -1.0);

  ModelSpec model_;
  GpuSpec gpu_;
  HardwareProfile profile_;
  int tp_;
  std::string dtype_;
  EngineCostParams engine_;
  double weight_elem_bytes_;
  double act_elem_bytes_;
  double peak_flops_;
  AllReduceCost allreduce_;
  double weight_bytes_per_gpu_ = 0;
  double kv_bytes_per_token_per_gpu_ = 0;
};

}  // namespace servetwin
