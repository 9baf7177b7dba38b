#pragma once
// Writes a probe fit (probe_fit.hpp) as a catalog directory the simulator reads with
// `--config-dir DIR/catalog`: a copy of the shipped catalog plus the probed model (from its HF
// config.json or a catalog id), a device (gpus/ + profiles/) and an engine preset (engines/), and
// beside it fit.json (coefficients, residuals per row, range of validity) and predict-flags.txt.
#include <filesystem>
#include <string>

#include "calibrate/probe/probe_fit.hpp"

namespace servetwin::calibrate {

struct ProbeCatalogOptions {
  std::filesystem::path out_dir;
  std::filesystem::path base_config_dir;  // the catalog to copy (default configs/)
  std::string model;                      // a catalog model id/alias, or
  std::filesystem::path hf_config;        // the served model's HF config.json
  std::string model_name;                 // name for an HF-config model (default: the served model name)
  std::string device_name = "probe-device";
  std::string engine_name = "probe-engine";
  int max_num_seqs = 0;                   // 0: the admission limit the burst found
  int max_num_batched_tokens = 0;         // 0: 2048 (vLLM's API-server default on CPU and small GPUs)
  long long kv_blocks = 0;                // 0: the server's num_gpu_blocks (its /metrics cache_config_info)
  int block_size = 0;                     // 0: the server's block_size, else 16
};

// Returns the flags for predict/load/validate (also written to predict-flags.txt).
// Throws ConfigError for a model that cannot be read or a KV size that is not known.
std::string write_probe_catalog(const ProbeFit& fit, const ProbeCatalogOptions& o);

}  // namespace servetwin::calibrate
