// Strict-loader errors: each bad config must name file, line and key, and say what is allowed.
// Every test writes a small catalog into a fresh temp directory.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "sim/catalog/catalog.hpp"

namespace servetwin {
namespace {

namespace fs = std::filesystem;

const char* kGpu = R"(kind: gpu
name: TestGPU
aliases: [tg]
vendor: nvidia
architecture: ampere
memory_bytes: {value: 24, unit: GiB, source: "datasheet"}
usable_memory_bytes: {value: 22000, unit: MiB, source: "assumed: test value"}
mem_bw_bytes_s: {value: 600, unit: GB/s, source: "datasheet"}
peak_fp16_flops: {value: 125, unit: TFLOPS, source: "datasheet"}
peak_fp8_flops: {value: 0, source: "datasheet: none"}
sm_count: {value: 72, source: "datasheet"}
l2_bytes: {value: 6, unit: MiB, source: "datasheet"}
tdp_watts: {value: 150, source: "datasheet"}
gpu_link: none
gpu_link_bw_bytes_s: {value: 0, source: "datasheet"}
pcie_gen: {value: 4, source: "datasheet"}
)";

const char* kInterconnect = R"(kind: interconnect
name: single
topology: none
description: "one GPU"
)";

const char* kInstance = R"(kind: instance
name: t.large
provider: aws
gpu: tg
gpu_count: {value: 1, source: "test"}
interconnect: single
vcpus: {value: 8, source: "test"}
host_memory_bytes: {value: 32, unit: GiB, source: "test"}
on_demand:
  usd_per_hour: {value: 1.5, source: "test"}
  date: "2026-01-02"
  region: us-east-1
)";

const char* kProfile = R"(kind: hardware_profile
name: TestGPU
gpu: TestGPU
gemm_eff_max: {value: 0.7, provenance: fitted, source: "fit on test data"}
gemm_m_half_tokens: {value: 128, provenance: assumed, source: "assumed: ridge point"}
gemm_bw_eff: {value: 0.8, provenance: measured, source: "test"}
attn_prefill_flops_eff: {value: 0.5, provenance: assumed, source: "assumed: test"}
attn_decode_bw_eff: {value: 0.5, provenance: assumed, source: "assumed: test"}
elementwise_bw_eff: {value: 0.6, provenance: assumed, source: "assumed: test"}
step_overhead_ns: {value: 126, unit: us, provenance: fitted, source: "test"}
layer_overhead_ns: {value: 30000, provenance: fitted, source: "test"}
copy_bw_eff: {value: 0.78, provenance: measured, source: "test"}
notes: "test profile"
fit:
  residual_pct: 3.5
  range: {tokens: [1, 4096]}
)";

const char* kEngine = R"(kind: engine
name: test-engine
engine: tgis
version: "1.0"
description: "test"
settings:
  max_batch_size: {value: 16, source: "test"}
  batch_type: {value: flash, source: "test"}
  use_cuda_graphs: {value: true, source: "test"}
)";

class CatalogErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("servetwin-catalog-test-" + std::to_string(rd()));
    fs::create_directories(dir_);
    write("gpus/test-gpu.yaml", kGpu);
    write("interconnects/single.yaml", kInterconnect);
    write("instances/t.large.yaml", kInstance);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }

  // 1-based line of the first line containing `needle` in `text`.
  static int line_of(const std::string& text, const std::string& needle) {
    const auto pos = text.find(needle);
    EXPECT_NE(pos, std::string::npos) << needle;
    return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
  }

  static std::string replace(std::string text, const std::string& from, const std::string& to) {
    const auto pos = text.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    if (pos != std::string::npos) text.replace(pos, from.size(), to);
    return text;
  }

  // Loads and returns the ConfigError message ("" and a test failure when it loads).
  std::string load_error() {
    try {
      (void)Catalog::load(dir_);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "catalog loaded without error";
    return "";
  }

  static void expect_contains(const std::string& msg, const std::string& part) {
    EXPECT_NE(msg.find(part), std::string::npos) << "missing '" << part << "' in: " << msg;
  }

  fs::path dir_;
};

TEST_F(CatalogErrors, ValidMiniCatalogLoads) {
  write("profiles/test-gpu.yaml", kProfile);
  write("engines/test-engine.yaml", kEngine);
  const Catalog c = Catalog::load(dir_);
  EXPECT_EQ(c.instance("T.LARGE").gpu, "TestGPU");  // alias resolved to the canonical name
  const HardwareProfile& p = c.profile("tg");
  EXPECT_DOUBLE_EQ(p.step_overhead_ns.value, 126000.0);
  EXPECT_EQ(p.gemm_eff_max.provenance, "fitted");
  EXPECT_TRUE(c.document("profiles", "TestGPU").contains("fit"));
  const EngineSpec& e = c.engine("test-engine");
  EXPECT_DOUBLE_EQ(e.settings.at("max_batch_size"), 16.0);
  EXPECT_EQ(e.text_settings.at("batch_type"), "flash");
  EXPECT_EQ(e.text_settings.at("use_cuda_graphs"), "true");
  EXPECT_TRUE(c.models.empty());  // absent kind directories are empty catalogs
}

TEST_F(CatalogErrors, UnknownKeyNamesFileLineKeyAndAllowedKeys) {
  const std::string text = replace(kGpu, "gpu_link: none\n", "gpu_link: none\ncolour: green\n");
  write("gpus/test-gpu.yaml", text);
  const std::string msg = load_error();
  expect_contains(msg, "test-gpu.yaml:" + std::to_string(line_of(text, "colour")) + ": key 'colour': unknown key");
  expect_contains(msg, "allowed: kind, name, aliases");
  expect_contains(msg, "mem_bw_bytes_s");
}

TEST_F(CatalogErrors, UnknownNestedKeyNamesThePath) {
  const std::string text = replace(kGpu, "source: \"datasheet\"}\npeak_fp16", "sorce: \"datasheet\"}\npeak_fp16");
  write("gpus/test-gpu.yaml", text);
  const std::string msg = load_error();
  expect_contains(msg, "test-gpu.yaml:" + std::to_string(line_of(text, "sorce")) + ": key 'mem_bw_bytes_s.sorce'");
  expect_contains(msg, "allowed: value, source, unit, note");
}

TEST_F(CatalogErrors, NegativeBandwidthIsOutOfRange) {
  const std::string text = replace(kGpu, "{value: 600, unit: GB/s", "{value: -600, unit: GB/s");
  write("gpus/test-gpu.yaml", text);
  const std::string msg = load_error();
  expect_contains(msg, "test-gpu.yaml:" + std::to_string(line_of(text, "mem_bw_bytes_s")) +
                           ": key 'mem_bw_bytes_s.value': value -600 GB/s out of range");
  expect_contains(msg, "allowed: > 0");
}

TEST_F(CatalogErrors, NegativeAllReduceBandwidthInAListItem) {
  const std::string text = R"(kind: interconnect
name: pcie
topology: pcie
description: "test"
allreduce:
  - tp: 2
    latency_ns: {value: 9, unit: us, source: "test"}
    bus_bw_bytes_s: {value: -3, unit: GB/s, source: "test"}
)";
  write("interconnects/pcie.yaml", text);
  const std::string msg = load_error();
  expect_contains(msg, "pcie.yaml:8: key 'allreduce[0].bus_bw_bytes_s.value'");
  expect_contains(msg, "out of range");
}

TEST_F(CatalogErrors, NumberWithoutSource) {
  const std::string text = replace(kGpu, "sm_count: {value: 72, source: \"datasheet\"}", "sm_count: 72");
  write("gpus/test-gpu.yaml", text);
  const std::string msg = load_error();
  expect_contains(msg, "test-gpu.yaml:" + std::to_string(line_of(text, "sm_count")) +
                           ": key 'sm_count': number without source");
  expect_contains(msg, "allowed: {value: <number>, source:");
}

TEST_F(CatalogErrors, MappingWithValueButNoSource) {
  const std::string text = replace(kGpu, "sm_count: {value: 72, source: \"datasheet\"}", "sm_count: {value: 72}");
  write("gpus/test-gpu.yaml", text);
  const std::string msg = load_error();
  expect_contains(msg, "test-gpu.yaml:" + std::to_string(line_of(text, "sm_count")) + ": key 'sm_count'");
  expect_contains(msg, "number without source");
}

TEST_F(CatalogErrors, AssumptionWithoutReason) {
  write("gpus/test-gpu.yaml", replace(kGpu, "\"assumed: test value\"", "\"assumed\""));
  expect_contains(load_error(), "key 'usable_memory_bytes.source': an assumption must say why");
}

TEST_F(CatalogErrors, BadEnumListsValues) {
  const std::string text = replace(kGpu, "vendor: nvidia", "vendor: intel");
  write("gpus/test-gpu.yaml", text);
  const std::string msg = load_error();
  expect_contains(msg, "test-gpu.yaml:4: key 'vendor': bad value 'intel'; allowed: nvidia, amd");
}

TEST_F(CatalogErrors, WrongTypeAndNonInteger) {
  write("gpus/test-gpu.yaml", replace(kGpu, "{value: 72,", "{value: many,"));
  expect_contains(load_error(), "test-gpu.yaml:11: key 'sm_count.value': expected a number, got 'many'");
  write("gpus/test-gpu.yaml", replace(kGpu, "{value: 72,", "{value: 72.5,"));
  expect_contains(load_error(), "key 'sm_count': expected an integer");
}

TEST_F(CatalogErrors, MissingRequiredKey) {
  write("gpus/test-gpu.yaml", replace(kGpu, "tdp_watts: {value: 150, source: \"datasheet\"}\n", ""));
  const std::string msg = load_error();
  expect_contains(msg, "test-gpu.yaml:1: key 'tdp_watts': missing required key");
}

TEST_F(CatalogErrors, BadUnitListsUnits) {
  write("gpus/test-gpu.yaml", replace(kGpu, "unit: GB/s", "unit: furlongs"));
  const std::string msg = load_error();
  expect_contains(msg, "key 'mem_bw_bytes_s.unit': bad unit 'furlongs'");
  expect_contains(msg, "GB/s");
}

// A valid dense model; tests substitute one line or append keys.
const char* kDenseModel = R"(kind: model
name: "test/model"
family: llama
tokenizer: llama2
num_layers: {value: 4, source: "test"}
hidden_size: {value: 4096, source: "test"}
intermediate_size: {value: 11008, source: "test"}
num_attention_heads: {value: 32, source: "test"}
num_kv_heads: {value: 32, source: "test"}
head_dim: {value: 128, source: "test"}
vocab_size: {value: 32000, source: "test"}
max_position_embeddings: {value: 4096, source: "test"}
tie_word_embeddings: false
gated_mlp: true
)";

TEST_F(CatalogErrors, ZeroLayersIsOutOfRange) {
  write("models/m.yaml", replace(kDenseModel, "num_layers: {value: 4,", "num_layers: {value: 0,"));
  const std::string msg = load_error();
  expect_contains(msg, "m.yaml:5: key 'num_layers.value': value 0 out of range; allowed: [1, 1000]");
}

TEST_F(CatalogErrors, InterleavedMoeNeedsExpertsAndADenseFfn) {
  const std::string dense = kDenseModel;
  write("models/m.yaml", dense + "moe_layer_step: {value: 2, source: \"test\"}\n");
  expect_contains(load_error(), "m.yaml:15: key 'moe_layer_step': set on a dense model (num_experts is 0); allowed: 1 or absent");
  write("models/m.yaml", dense + "num_experts: {value: 8, source: \"test\"}\nexperts_per_token: {value: 1, source: \"test\"}\n"
                                 "moe_layer_step: {value: 2, source: \"test\"}\n");
  expect_contains(load_error(), "key 'dense_intermediate_size': missing: the dense layers between MoE layers need their FFN size");
}

TEST_F(CatalogErrors, DuplicateAliasAcrossFiles) {
  std::string second = replace(kGpu, "name: TestGPU", "name: OtherGPU");
  second = replace(second, "aliases: [tg]", "aliases: [TG]");
  write("gpus/z-other.yaml", second);
  const std::string msg = load_error();
  expect_contains(msg, "z-other.yaml:3: key 'aliases': duplicate gpus 'TG'");
  expect_contains(msg, "test-gpu.yaml");
}

TEST_F(CatalogErrors, InstanceWithUnknownGpuOrInterconnect) {
  write("instances/t.large.yaml", replace(kInstance, "gpu: tg", "gpu: B200"));
  std::string msg = load_error();
  expect_contains(msg, "t.large.yaml:4: key 'gpu': unknown gpu 'B200'; allowed: TestGPU");
  write("instances/t.large.yaml", replace(kInstance, "interconnect: single", "interconnect: nvlink9"));
  msg = load_error();
  expect_contains(msg, "t.large.yaml:6: key 'interconnect': unknown interconnect 'nvlink9'; allowed: single");
}

TEST_F(CatalogErrors, PriceMustBeAvailableOrExplained) {
  write("instances/t.large.yaml", replace(kInstance, "  usd_per_hour: {value: 1.5, source: \"test\"}\n",
                                          "  available: false\n"));
  expect_contains(load_error(), "key 'on_demand.reason': missing required key");
  write("instances/t.large.yaml", replace(kInstance, "\"2026-01-02\"", "\"Jan 2026\""));
  expect_contains(load_error(), "t.large.yaml:11: key 'on_demand.date': bad date 'Jan 2026'; allowed: YYYY-MM-DD");
}

TEST_F(CatalogErrors, ProfileEfficiencyAboveOneAndBadProvenance) {
  write("profiles/test-gpu.yaml", replace(kProfile, "{value: 0.8, provenance: measured", "{value: 1.3, provenance: measured"));
  std::string msg = load_error();
  expect_contains(msg, "test-gpu.yaml:6: key 'gemm_bw_eff.value': value 1.3 out of range; allowed: (0, 1]");
  write("profiles/test-gpu.yaml", replace(kProfile, "provenance: measured, source: \"test\"}\nattn", "provenance: guessed, source: \"test\"}\nattn"));
  msg = load_error();
  expect_contains(msg, "key 'gemm_bw_eff.provenance': bad value 'guessed'; allowed: datasheet, fitted, measured, assumed");
}

TEST_F(CatalogErrors, EngineSettingWithoutSourceAndBadEngine) {
  write("engines/test-engine.yaml", replace(kEngine, "max_batch_size: {value: 16, source: \"test\"}", "max_batch_size: 16"));
  expect_contains(load_error(), "test-engine.yaml:7: key 'settings.max_batch_size': setting without source");
  // The engine kind is checked against the engine registry when the engine is built (the catalog
  // sits below the engines and cannot know them): tests/sim/toy_engine/toy_engine_test.cpp.
  write("engines/test-engine.yaml", replace(kEngine, "engine: tgis", "engine: [tgis]"));
  expect_contains(load_error(), "test-engine.yaml:3: key 'engine': expected a string");
}

TEST_F(CatalogErrors, FileInWrongDirectoryAndSyntaxError) {
  write("models/gpu-here.yaml", kGpu);
  expect_contains(load_error(), "gpu-here.yaml:1: key 'kind': bad kind 'gpu' for a file in models/; allowed: model");
  fs::remove(dir_ / "models/gpu-here.yaml");
  write("gpus/test-gpu.yaml", std::string(kGpu) + "broken: [unclosed\n");
  expect_contains(load_error(), "key '(syntax)': YAML syntax error");
}

TEST_F(CatalogErrors, WorkloadDatasetFileMustExist) {
  write("workloads/w.yaml", R"(kind: workload
name: w
type: dataset
description: "test"
dataset_file: datasets/missing.json
dataset_format: llm-load-test-v1
)");
  expect_contains(load_error(), "w.yaml:5: key 'dataset_file': file 'datasets/missing.json' not found");
}

}  // namespace
}  // namespace servetwin
