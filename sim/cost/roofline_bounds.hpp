#pragma once
// Roofline lower bounds of one step, from datasheet peaks only (no efficiencies): the time to read
// the bytes a step must read from device memory at peak bandwidth, and the time to do its FLOPs at
// peak tensor throughput. No kernel can beat either, so a predicted step time is at least the
// larger of the two; how far above it sits is the product of the profile's efficiencies and
// overheads (docs/validation.md, "Roofline check"). Dense models only: for a mixture of experts
// the weights a step reads depend on routing, so no fixed byte count is a bound.
#include <string>

#include "sim/catalog/specs.hpp"
#include "sim/cost/cost_model.hpp"
#include "sim/cost/step_shape.hpp"

namespace servetwin {

struct RooflineBounds {
  double memory_bytes = 0;  // weights + KV read by decode attention, per GPU
  double flops = 0;         // linear layers + LM head + attention, per GPU
  double memory_ns = 0;     // memory_bytes at the datasheet bandwidth
  double compute_ns = 0;    // flops at the datasheet dense tensor peak for the weights' dtype
  // The engines run the linear layers and attention one after the other, so a tighter bound is the
  // sum of each phase's own roofline: max(weights, linear FLOPs) + max(KV bytes, attention FLOPs).
  double serial_ns = 0;
  [[nodiscard]] double bound_ns() const { return memory_ns > compute_ns ? memory_ns : compute_ns; }
};

// Bounds of `step` for `model` on `gpu` at TP `tp`, with the weight and KV sizes `cost` uses.
// Throws ConfigError for a mixture-of-experts model.
RooflineBounds roofline_bounds(const ModelSpec& model, const GpuSpec& gpu, const CostModel& cost,
                               const std::string& dtype, const StepShape& step);

// A decode-only step: `batch` sequences, each with `context_tokens` tokens of KV to read.
StepShape decode_step_shape(std::int64_t batch, std::int64_t context_tokens);

// A chunked-prefill step: the decode step above plus one prompt chunk of `prefill_tokens` new
// tokens with no earlier context.
StepShape mixed_step_shape(std::int64_t batch, std::int64_t context_tokens, std::int64_t prefill_tokens);

}  // namespace servetwin
