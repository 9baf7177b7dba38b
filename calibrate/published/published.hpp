#pragma once
// Adapters from the published tables in ../shared/calibration to CalibrationData, so published
// measurements are fitted exactly like our own runs. Formats: see the READMEs beside the files.
#include <filesystem>
#include <string>

#include "calibrate/core/calibration_data.hpp"

namespace servetwin {
class Catalog;
}

namespace servetwin::calibrate {

// Vidur compute/<gpu>/<org>/<model>/mlp.csv: per-layer operator CUDA times (ms, median of 20).
// Yields GEMM points (qkv, o, gate_up, down) and elementwise points (rmsnorm, rope, silu_mul, add).
// `model_label` names the model in the points (e.g. "llama-2-7b").
CalibrationData read_vidur_mlp(const std::filesystem::path& csv, const std::string& model_label);

// Vidur network/<system>/all_reduce.csv: NCCL all-reduce kernel times (ms) vs size (bytes).
// Only intra-node rows (devices_per_node == num_workers) unless `include_cross_node`.
CalibrationData read_vidur_allreduce(const std::filesystem::path& csv, const std::string& system,
                                     bool include_cross_node = false);

// Whether a Vidur network system joins all its GPUs on one NVLink fabric (NVSwitch): a100_dgx and
// h100_dgx (Vidur README: DGX, all on NVLink). Not the *_pairwise_nvlink boxes, whose 4-GPU ring
// crosses PCIe. Feeds fit_allreduce's `switched_nvlink` (intra-node rows only).
bool vidur_switched_nvlink(const std::string& system);

// Vidur legacy-e2d00e9/a100/attention.csv: FlashAttention prefill/decode kernel times (ms) for
// Llama-2-70B at TP2 on A100 (README: geometry n_embd 8192, 64 q heads, 8 kv heads).
CalibrationData read_vidur_attention(const std::filesystem::path& csv);

// Splitwise perf_model.csv, one (model, hardware, TP) group: end-to-end vLLM prompt/token times.
struct SplitwiseRow {
  std::string model, hardware;
  int tp = 0;
  double prompt_size = 0, batch_size = 0, token_size = 0;
  double prompt_time_ms = 0, token_time_ms = 0;
};
std::vector<SplitwiseRow> read_splitwise(const std::filesystem::path& csv);

// `--published` specs: "vidur:a100", "vidur:h100" (GEMM + elementwise from the Llama-2-7B and
// -70B mlp.csv, all-reduce from <gpu>_dgx, attention where published). `models` restricts which
// mlp.csv files are read ("llama-2-7b", "llama-2-70b"; empty = both). The GPU's datasheet peaks come
// from `catalog` (configs/gpus).
CalibrationData read_published(const Catalog& catalog, const std::string& spec, const std::filesystem::path& shared_dir,
                               const std::vector<std::string>& models = {});

}  // namespace servetwin::calibrate
