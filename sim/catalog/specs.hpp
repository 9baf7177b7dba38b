#pragma once
// Typed catalog entries, filled by the strict YAML loaders in catalog.cpp.
// Every number in configs/ carries a `source:`; the typed structs keep the values, and
// CatalogEntry::document keeps the whole parsed entry (values + sources) for `servetwin show`.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace servetwin {

// A model's architecture, as in its Hugging Face config.json.
struct ModelSpec {
  std::string name;                 // HF id, e.g. "meta-llama/Llama-2-7b-hf"
  std::vector<std::string> aliases; // short names accepted on the CLI, e.g. "llama-2-7b"
  std::string family;               // "llama", "mistral", "mixtral", "qwen2", "qwen3", "granite", "opt", ...
  std::string tokenizer;            // tokenizer family for dataset token counts: "llama2", "llama3", ...
  int num_layers = 0;
  int hidden_size = 0;
  int intermediate_size = 0;        // per expert for MoE
  int num_attention_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  int vocab_size = 0;
  int max_position_embeddings = 0;
  bool tie_word_embeddings = false;
  bool gated_mlp = true;            // SwiGLU (3 matrices) vs plain 2-matrix MLP (OPT)
  int num_experts = 0;              // 0 = dense
  int experts_per_token = 0;        // top-k for MoE
  int shared_experts = 0;           // MoE: experts every token also goes through (Llama 4: 1)
  // MoE models whose MoE layers alternate with dense ones (Llama 4 Maverick: every 2nd layer is MoE):
  // one layer in `moe_layer_step` is MoE, the others are dense MLPs of `dense_intermediate_size`.
  int moe_layer_step = 1;
  int dense_intermediate_size = 0;
  [[nodiscard]] double moe_layer_fraction() const { return num_experts > 0 ? 1.0 / moe_layer_step : 0.0; }
  int sliding_window = 0;           // 0 = none
};

// A GPU's datasheet figures.
struct GpuSpec {
  std::string name;                 // "A10G", "H100-SXM", ...
  std::vector<std::string> aliases; // e.g. "H100-80GB-SXM" as written in validation CSVs
  std::string vendor;               // "nvidia" | "amd"
  std::string architecture;         // "ampere", "ada", "hopper", "cdna3"
  double memory_bytes = 0;          // total device memory
  double usable_memory_bytes = 0;   // what the driver reports (e.g. AWS-reported MiB)
  double mem_bw_bytes_s = 0;        // peak HBM/GDDR bandwidth
  double peak_fp16_flops = 0;       // dense tensor FP16/BF16
  double peak_fp8_flops = 0;        // dense FP8; 0 = not supported
  double peak_fp4_flops = 0;        // dense FP4 (NVFP4, Blackwell); 0 = not supported
  int sm_count = 0;                 // SMs (NVIDIA) or CUs (AMD)
  double l2_bytes = 0;
  double tdp_watts = 0;
  std::string gpu_link;             // "none", "nvlink3", "nvlink4", "infinity-fabric"
  double gpu_link_bw_bytes_s = 0;   // per-GPU aggregate, bidirectional as the datasheet states it
  int pcie_gen = 0;
  // Interconnect of a multi-GPU server of this GPU when no instance is named; "" = the smallest catalogued
  // instance's (resolve_deployment). Set where that instance is not what a server of this GPU usually is.
  std::string server_interconnect;
};

// How GPUs of one instance talk to each other, with all-reduce costs per TP degree.
struct AllReducePoint {
  int tp = 0;
  double latency_ns = 0;            // small-message latency (alpha)
  double bus_bw_bytes_s = 0;        // large-message bus bandwidth (nccl-tests busbw)
  // Small-message latency of a vLLM-style custom (P2P/NVLink) all-reduce kernel; 0 = the topology
  // cannot run one (PCIe without P2P), so every engine pays the NCCL latency above.
  double custom_latency_ns = 0;
};
struct InterconnectSpec {
  std::string name;                 // "pcie4-g5", "nvswitch-a100", ...
  std::string kind;                 // "nvswitch" | "nvlink-pairs" | "pcie" | "none"
  std::string description;
  std::vector<AllReducePoint> allreduce;  // sorted by tp
};

struct PriceSpec {
  double usd_per_hour = 0;          // 0 with has_price=false when AWS lists no on-demand price
  bool has_price = false;
  std::string date;                 // YYYY-MM-DD the price was read
  std::string region;
};

struct InstanceSpec {
  std::string name;                 // "g5.2xlarge"
  std::string provider;             // "aws"
  std::string gpu;                  // GpuSpec name
  int gpu_count = 0;
  std::string interconnect;         // InterconnectSpec name
  int vcpus = 0;
  double host_memory_bytes = 0;
  PriceSpec on_demand;
};

// A cost-model parameter with its provenance (datasheet / fitted / measured / assumed).
struct Param {
  double value = 0;
  std::string provenance;           // "datasheet" | "fitted" | "measured" | "assumed"
  std::string source;               // citation, file fitted on, or why assumed
};

// Per-GPU efficiencies used by the cost model (sim/cost). Fitted by calibrate/ or assumed.
struct HardwareProfile {
  std::string name;                 // usually the GPU name
  std::string gpu;                  // GpuSpec name
  // GEMM: achieved = peak * eff_max * M / (M + m_half), floored by the weight-read roofline
  // with bandwidth efficiency bw_eff. M = tokens in the step.
  Param gemm_eff_max;
  Param gemm_m_half_tokens;
  Param gemm_bw_eff;
  // Attention: prefill as FLOPs at a fraction of peak; decode as KV bytes at a fraction of bandwidth.
  Param attn_prefill_flops_eff;
  Param attn_decode_bw_eff;
  // Norms, activations, rotary, residual adds: bytes moved at this fraction of peak bandwidth.
  Param elementwise_bw_eff;
  // Launch/framework costs: fixed per step, per layer per step.
  Param step_overhead_ns;
  Param layer_overhead_ns;
  // Device-to-device copy efficiency (KV concatenation in TGIS flash path).
  Param copy_bw_eff;
  // Host time per Python-level operation of an eager (no CUDA graph) PyTorch engine on this GPU's usual
  // host CPU (sim/cost/eager_overhead.hpp); optional, 0 = not known (eager engines then pay none).
  Param host_op_ns;
  std::string notes;                // range of validity, residuals, fit summary
};

// An engine preset: which scheduler and its settings.
struct EngineSpec {
  std::string name;                 // preset name, e.g. "tgis-rhoai-2024q1"
  std::string engine;               // "tgis" | "tgi" | "vllm"
  std::string version;
  std::string description;
  std::map<std::string, double> settings;            // numeric settings (sorted: stable output)
  std::map<std::string, std::string> text_settings;  // string/enum settings
};

// A workload: where request lengths and prompts come from.
struct LengthDist {
  std::string kind = "fixed";       // fixed | normal | uniform | lognormal
  double mean = 0, stddev = 0, min = 1, max = 1e9;
};
struct WorkloadSpec {
  std::string name;
  std::string kind;                 // "dataset" | "synthetic" | "shared_prefix" | "trace"
  std::string description;
  std::string dataset_file;         // relative to configs/ (dataset kind)
  std::string dataset_format;       // "llm-load-test-v1" | "llm-load-test-v2"
  LengthDist input, output;         // synthetic kind
  // shared_prefix (inference-perf): system prompt shared by users of a group
  int num_groups = 0, users_per_group = 0;
  int system_prompt_tokens = 0, question_tokens = 0, output_tokens = 0;
  // > 0: the load generator pre-generates this many whole prompts (system prompt + question) and sends them
  // in rotation, request k sending prompt k mod N, so each prompt repeats verbatim (inference-perf's
  // shared_prefix datagen: num_groups x num_prompts_per_group prompts, data_index % len(prompts)).
  // 0: every request has its own question; only the group's system prompt is shared.
  int prompts_in_rotation = 0;
  std::string token_counts_file;    // relative to configs/: per-entry token counts (dataset kind)
  std::string tokenizer;            // tokenizer the dataset's token counts refer to
  // Published load stages that go with the workload (shared_prefix: the BLIS stage schedule).
  struct Stage {
    double rate_rps = 0;
    double duration_s = 0;
  };
  std::vector<Stage> stages;
  std::map<std::string, double> extra;
};

}  // namespace servetwin
