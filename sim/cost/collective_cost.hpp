#pragma once
// Tensor-parallel all-reduce time from nccl-tests-style facts (configs/interconnects): the alpha-beta
// form of a ring all-reduce, time = alpha + bytes * 2(n-1)/n / busbw, where alpha is the measured
// small-message latency at this TP degree and busbw the measured large-message bus bandwidth
// (nccl-tests convention: busbw = algbw * 2(n-1)/n). Both come per TP degree from the catalog, so the
// growth of alpha with the ring length and the PCIe/NVSwitch difference are measured, not modelled.
// Engines with a custom one-shot kernel (vLLM >= 0.4, TensorRT-LLM) use its latency below a size
// limit where the topology allows it (full NVLink, or 2 GPUs with P2P).
#include "sim/catalog/specs.hpp"

namespace servetwin {

class AllReduceCost {
 public:
  AllReduceCost() = default;  // TP1: every all-reduce is free
  // Throws ConfigError when tp > 1 and the interconnect has no all-reduce data.
  AllReduceCost(const InterconnectSpec& interconnect, int tp, double custom_allreduce_max_bytes);

  // Time of one all-reduce of `bytes` per GPU (0 at TP1 or for an empty message).
  [[nodiscard]] double ns(double bytes) const;
  [[nodiscard]] int tp() const { return tp_; }

 private:
  int tp_ = 1;
  double latency_ns_ = 0;
  double custom_latency_ns_ = 0;  // 0 = no custom kernel on this interconnect/engine
  double custom_max_bytes_ = 0;
  double bus_bw_bytes_s_ = 0;
};

}  // namespace servetwin
