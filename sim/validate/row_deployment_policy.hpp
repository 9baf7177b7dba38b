#pragma once
// configs/validation/row_deployment.yaml as data: how the deployment cells of a published row (gpu, model,
// precision, engine_version) are read when other people write them, and which engine limits a row's stated
// lengths raise. Loaded with the rest of the validation policy (validation_policy_file.cpp).
#include <filesystem>
#include <string>
#include <vector>

namespace servetwin {

// A GPU label without memory size or form factor: the row's instance picks among `candidates`, else `fallback`.
struct GpuLabelRule {
  std::vector<std::string> labels;
  std::vector<std::string> candidates;  // catalog GPU names
  std::string fallback;                 // the yaml's `default`
  std::string why;
};

// GPU labels the catalog does not hold, with the reason the row is unsupported.
struct UnsupportedGpuLabel {
  std::vector<std::string> labels;
  std::string reason;
};

// Words of a model id (split on '-') and what they mean.
struct ModelIdWords {
  std::vector<std::string> drop;
  std::vector<std::string> drop_leading;
  std::vector<std::string> fp8;
  std::vector<std::string> fp4;             // words naming NVFP4 weights (Blackwell FP4 tensor cores)
  std::vector<std::string> fp8_companions;  // qualify an fp8 or fp4 word ("-FP8-dynamic")
  std::vector<std::string> quantized;
};

struct PrecisionSpelling {
  std::string precision;  // fp16 | bf16 | fp8 | fp4
  std::vector<std::string> spellings;
};

// One engine limit a row's lengths may raise.
struct LengthLimitSetting {
  std::string key;            // engine_set key (max_model_len, max_input_length, ...)
  bool covers_output = true;  // prompt + output (true) or the prompt alone
  bool unset_is_model_max = false;  // unset = the model's max_position_embeddings; else unset = left alone
};

struct LengthLimitRule {
  std::string engine;  // EngineSpec::engine (vllm, tgi, tgis, ...)
  std::vector<std::string> not_load_types;  // load types whose mapping sets the limit itself
  std::vector<LengthLimitSetting> settings;
};

struct RowDeploymentPolicy {
  std::vector<std::string> gpu_vendor_words;
  std::vector<GpuLabelRule> gpu_labels;
  std::vector<UnsupportedGpuLabel> unsupported_gpus;
  ModelIdWords model_words;
  std::vector<PrecisionSpelling> precision_spellings;
  std::vector<std::string> moving_versions;
  std::vector<LengthLimitRule> length_limits;
};

// Reads `file` strictly (FILE:LINE: key 'KEY': problem; allowed: ...). GPU names are checked against the catalog
// later (check_row_deployment_policy).
RowDeploymentPolicy load_row_deployment_policy(const std::filesystem::path& file);

class Catalog;
// Every GPU a gpu_labels rule names is in the catalog.
// Throws ConfigError naming the file.
void check_row_deployment_policy(const RowDeploymentPolicy& policy, const Catalog& catalog,
                                 const std::filesystem::path& file);

}  // namespace servetwin
