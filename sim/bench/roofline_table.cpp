// roofline_table: the "Roofline check" tables of docs/validation.md. For each GPU of the issue-17
// list it prints the cost model's decode step time (vLLM 0.15 preset, CUDA-graph decode) at
// batch 1/32/128/256 and a fixed context, split into its terms, next to the memory and compute
// roofline bounds (sim/cost/roofline_bounds.hpp), and the same for a chunked-prefill step.
// Not a Google Benchmark program; it lives with them because it is a measurement of the model.
// Usage: build/bench/roofline_table [CONFIG_DIR]   (default: the shipped configs/)
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/cost/roofline_bounds.hpp"
#include "sim/engine/engine_registry.hpp"
#include "sim/engine/engine_settings.hpp"

namespace servetwin {
namespace {

struct Deployment {
  const char* gpu;
  const char* model;
  int tp;
  const char* interconnect;
};

// Llama-2-7B fp16 on every GPU of the list; Llama-2-70B at the TP its weights need where an
// 8-GPU server of that GPU exists in the catalog.
std::vector<Deployment> deployments() {
  std::vector<Deployment> out;
  for (const char* gpu : {"A10G", "L4", "L40S", "A100-40GB-SXM", "A100-80GB-SXM", "H100-SXM", "H200", "B200"}) {
    out.push_back({gpu, "meta-llama/Llama-2-7b-hf", 1, "none"});
  }
  out.push_back({"A100-80GB-SXM", "meta-llama/Llama-2-70b-hf", 4, "nvswitch-a100"});
  out.push_back({"H100-SXM", "meta-llama/Llama-2-70b-hf", 4, "nvswitch-h100"});
  out.push_back({"H200", "meta-llama/Llama-2-70b-hf", 2, "nvswitch-h200"});
  out.push_back({"B200", "meta-llama/Llama-2-70b-hf", 2, "nvswitch-b200"});
  return out;
}
constexpr std::int64_t kContextTokens = 1024;
constexpr std::int64_t kChunkTokens = 512;
const std::vector<std::int64_t> kBatches{1, 32, 128, 256};

CostModel make_cost_model(const Catalog& c, const Deployment& d) {
  const GpuSpec& gpu = c.gpu(d.gpu);
  EngineSettings settings(c.engine("vllm-0.15"), {});
  const EngineCostParams params = read_engine_cost_params(settings, gpu, c.profile(gpu.name));
  return CostModel(c.model(d.model), gpu, c.profile(gpu.name), c.interconnect(d.interconnect), d.tp, "fp16",
                   params);
}

// Whether weights plus the step's KV fit in 90% of the GPU's usable memory (vLLM's default share).
bool kv_fits(const GpuSpec& gpu, const CostModel& cost, const StepShape& s) {
  const double need = cost.weight_bytes_per_gpu() +
                      static_cast<double>(s.decode_kv_tokens) * cost.kv_bytes_per_token_per_gpu();
  return need <= 0.9 * gpu.usable_memory_bytes;
}

void print_table(const Catalog& c, bool mixed) {
  std::cout << "| GPU | model | TP | batch | fits | predicted ms | GEMM | attention | other | memory bound ms"
               " | compute bound ms | ratio | serial bound ms | ratio to serial |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const Deployment& d : deployments()) {
    const CostModel cost = make_cost_model(c, d);
    const ModelSpec& model = c.model(d.model);
    const GpuSpec& gpu = c.gpu(d.gpu);
    for (const std::int64_t batch : kBatches) {
      const StepShape s = mixed ? mixed_step_shape(batch, kContextTokens, kChunkTokens)
                                : decode_step_shape(batch, kContextTokens);
      const StepCost t = cost.step(s);
      const RooflineBounds b = roofline_bounds(model, gpu, cost, "fp16", s);
      const double other_ns = t.total_ns - t.gemm_ns - t.attention_ns;
      std::cout << fmt::format("| {} | {} | {} | {} | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} |\n",
                               gpu.name, model.aliases.empty() ? model.name : model.aliases.front(), d.tp, batch,
                               kv_fits(gpu, cost, s) ? "yes" : "no", t.total_ns / 1e6, t.gemm_ns / 1e6,
                               t.attention_ns / 1e6, other_ns / 1e6, b.memory_ns / 1e6, b.compute_ns / 1e6,
                               t.total_ns / b.bound_ns(), b.serial_ns / 1e6, t.total_ns / b.serial_ns);
    }
  }
}

// One Llama-2-7B layer's four linear layers (QKV, O, gate+up, down) at M tokens on one GPU: the
// cost model's time next to the per-layer sums of Vidur's measured A100/H100 kernels
// (scripts/vidur_layer_gemm.py prints those), to check the GEMM term where it matters for batching.
void print_layer_gemm_table(const Catalog& c) {
  std::cout << "| M tokens | A100-80GB-SXM model ms | H100-SXM model ms |\n|---|---|---|\n";
  const CostModel a100 = make_cost_model(c, {"A100-80GB-SXM", "meta-llama/Llama-2-7b-hf", 1, "none"});
  const CostModel h100 = make_cost_model(c, {"H100-SXM", "meta-llama/Llama-2-7b-hf", 1, "none"});
  const auto layer_ms = [](const CostModel& cost, double m) {
    return (cost.gemm_ns(m, 4096, 3 * 4096) + cost.gemm_ns(m, 4096, 4096) + cost.gemm_ns(m, 4096, 2 * 11008) +
            cost.gemm_ns(m, 11008, 4096)) / 1e6;
  };
  for (const double m : {1.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0}) {
    std::cout << fmt::format("| {:.0f} | {:.4f} | {:.4f} |\n", m, layer_ms(a100, m), layer_ms(h100, m));
  }
}

// Issue 17's S1 shape at saturation (servetwin: batch ~126, mean context 512 + 64): the decode-only
// step and the step that also carries one 512-token prompt, every StepCost term, with the bounds.
void print_s1_steps(const Catalog& c) {
  const Deployment d{"A100-80GB-SXM", "meta-llama/Llama-2-7b-hf", 1, "none"};
  const CostModel cost = make_cost_model(c, d);
  std::cout << "| step | total ms | GEMM | attention | elementwise | overhead | memory bound | compute bound |"
               " serial bound |\n|---|---|---|---|---|---|---|---|---|\n";
  for (const bool mixed : {false, true}) {
    const StepShape s = mixed ? mixed_step_shape(126, 576, 512) : decode_step_shape(126, 576);
    const StepCost t = cost.step(s);
    const RooflineBounds b = roofline_bounds(c.model(d.model), c.gpu(d.gpu), cost, "fp16", s);
    std::cout << fmt::format("| {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} |\n",
                             mixed ? "126 decodes + 512-token prompt" : "126 decodes", t.total_ns / 1e6,
                             t.gemm_ns / 1e6, t.attention_ns / 1e6, t.elementwise_ns / 1e6, t.overhead_ns / 1e6,
                             b.memory_ns / 1e6, b.compute_ns / 1e6, b.serial_ns / 1e6);
  }
}

}  // namespace
}  // namespace servetwin

int main(int argc, char** argv) {
  using namespace servetwin;
  try {
    const Catalog c = argc > 1 ? Catalog::load(std::filesystem::path(argv[1])) : Catalog::load();
    std::cout << "Decode steps (context " << kContextTokens << " tokens per sequence, vllm-0.15, fp16):\n\n";
    print_table(c, false);
    std::cout << "\nChunked-prefill steps (the decode batch above plus one " << kChunkTokens
              << "-token prompt chunk):\n\n";
    print_table(c, true);
    std::cout << "\nLinear layers of one Llama-2-7B layer (TP1, fp16) versus tokens in the step:\n\n";
    print_layer_gemm_table(c);
    std::cout << "\nIssue 17's S1 step at saturation (Llama-2-7B, A100-80GB-SXM, context 576 per sequence):\n\n";
    print_s1_steps(c);
  } catch (const std::exception& e) {
    std::cerr << "roofline_table: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
