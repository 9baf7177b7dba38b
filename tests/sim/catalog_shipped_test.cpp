// The shipped configs/ catalog: loads, holds the facts the issue names, and resolves every model,
// GPU, instance and workload id used by the published validation CSVs.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "sim/catalog/catalog.hpp"
#include "sim/workload/request_source.hpp"
#include "sim/metrics/request_record.hpp"
#include "sim/catalog/model_params.hpp"

namespace servetwin {
namespace {

const std::filesystem::path kConfigs = std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs";
const std::filesystem::path kPublished = std::filesystem::path(SERVETWIN_SHARED_DIR) / "validation" / "published";

const Catalog& shipped() {
  static const Catalog c = Catalog::load(kConfigs);
  return c;
}

// Distinct non-empty values of `column` over all published CSVs (files named in `only` if non-empty).
std::set<std::string> csv_column(const std::string& column, const std::set<std::string>& only = {}) {
  std::set<std::string> values;
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kPublished)) {
    if (entry.path().extension() != ".csv") continue;
    if (!only.empty() && only.count(entry.path().filename().string()) == 0) continue;
    ++files;
    std::ifstream in(entry.path());
    std::string line;
    std::getline(in, line);
    const auto header = split_csv_record(line);
    const auto it = std::find(header.begin(), header.end(), column);
    EXPECT_NE(it, header.end()) << entry.path() << " has no column " << column;
    if (it == header.end()) continue;
    const auto col = static_cast<std::size_t>(it - header.begin());
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto cells = split_csv_record(line);
      if (col < cells.size() && !cells[col].empty()) values.insert(cells[col]);
    }
  }
  EXPECT_GT(files, 0U) << "no CSVs found in " << kPublished;
  return values;
}

TEST(CatalogShipped, LoadsEveryKind) {
  const Catalog& c = shipped();
  EXPECT_GE(c.models.size(), 14U);
  EXPECT_GE(c.gpus.size(), 10U);
  EXPECT_GE(c.instances.size(), 20U);
  EXPECT_GE(c.interconnects.size(), 5U);
  EXPECT_GE(c.workloads.size(), 8U);
  for (const char* gpu : {"A10G", "A10", "L4", "L40S", "A100-40GB-SXM", "A100-80GB-SXM", "H100-SXM", "H100-PCIe",
                          "H200", "MI300X"}) {
    EXPECT_TRUE(c.has_gpu(gpu)) << gpu;
  }
  for (const char* m : {"llama-2-7b", "llama-2-13b", "llama-2-70b", "llama-3.1-8b", "llama-3.1-70b", "mistral-7b",
                        "mixtral-8x7b", "qwen2.5-7b", "qwen3-14b", "codellama-34b", "yi-34b", "mistral-nemo-12b",
                        "granite-3.1-8b", "opt-13b"}) {
    EXPECT_TRUE(c.has_model(m)) << m;
  }
  for (const char* w : {"openorca-32", "general", "general-lite", "codegen", "roleplay", "reasoning-lite",
                        "reasoning"}) {
    EXPECT_NO_THROW((void)c.workload(w)) << w;
  }
}

// The CLI's parse cache (parse_cache.hpp) must make loads faster, never different: a catalog loaded
// from the cache equals a freshly parsed one in every document and every engine setting, and editing a
// file invalidates the cache. (Load speed itself is measured in sim/bench, not here.)
TEST(CatalogShipped, ParseCacheGivesTheSameCatalogAndNoticesEdits) {
  namespace fs = std::filesystem;
  const fs::path tmp = fs::temp_directory_path() / "servetwin_parse_cache_test";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  fs::copy(kConfigs, tmp / "configs", fs::copy_options::recursive);
  const Catalog fresh = Catalog::load(tmp / "configs");
  Catalog::use_parse_cache(tmp / "cache");
  const Catalog first = Catalog::load(tmp / "configs");   // parses, writes the cache
  const Catalog cached = Catalog::load(tmp / "configs");  // reads the cache
  ASSERT_FALSE(fs::is_empty(tmp / "cache"));
  for (const auto& kind : {"models", "gpus", "instances", "interconnects", "profiles", "engines", "workloads"}) {
    for (const auto& name : fresh.names(kind)) {
      EXPECT_EQ(cached.document(kind, name), fresh.document(kind, name)) << kind << " " << name;
    }
    EXPECT_EQ(cached.names(kind), fresh.names(kind)) << kind;
  }
  // Quoted scalars stay strings through the cache (a quoted "256" is not a number).
  EXPECT_EQ(cached.engine("vllm-0.15").settings.size(), fresh.engine("vllm-0.15").settings.size());
  // An edited file is parsed again, not served from the stale cache.
  {
    std::ofstream f(tmp / "configs" / "engines" / "vllm-0.15.yaml", std::ios::app);
    f << "# edited\nnotes: edited after caching\n";
  }
  const Catalog edited = Catalog::load(tmp / "configs");
  EXPECT_EQ(edited.document("engines", "vllm-0.15").value("notes", ""), "edited after caching");
  Catalog::use_parse_cache({});
  fs::remove_all(tmp);
}

TEST(CatalogShipped, G5TwoXlargeIsOneA10GAt1212WithDateAndSource) {
  const InstanceSpec& i = shipped().instance("g5.2xlarge");
  EXPECT_EQ(i.gpu, "A10G");
  EXPECT_EQ(i.gpu_count, 1);
  EXPECT_TRUE(i.on_demand.has_price);
  EXPECT_DOUBLE_EQ(i.on_demand.usd_per_hour, 1.212);
  EXPECT_TRUE(std::regex_match(i.on_demand.date, std::regex(R"(20\d\d-\d\d-\d\d)"))) << i.on_demand.date;
  EXPECT_EQ(i.on_demand.region, "us-east-1");
  const auto& doc = shipped().document("instances", "g5.2xlarge");
  const std::string source = doc.at("on_demand").at("usd_per_hour").at("source").get<std::string>();
  EXPECT_NE(source.find("hardware_and_models.md"), std::string::npos) << source;
}

TEST(CatalogShipped, MultiGpuInstancesHaveCountAndInterconnectWithAllReduceAtThatTp) {
  const Catalog& c = shipped();
  const std::vector<std::tuple<std::string, std::string, int, std::string>> expected{
      {"g5.12xlarge", "A10G", 4, "pcie4-g5"},
      {"g5.48xlarge", "A10G", 8, "pcie4-g5-dual-socket"},
      {"p4d.24xlarge", "A100-40GB-SXM", 8, "nvswitch-a100"},
      {"p5.48xlarge", "H100-SXM", 8, "nvswitch-h100"},
  };
  for (const auto& [name, gpu, count, ic] : expected) {
    const InstanceSpec& i = c.instance(name);
    EXPECT_EQ(i.gpu, gpu) << name;
    EXPECT_EQ(i.gpu_count, count) << name;
    EXPECT_EQ(i.interconnect, ic) << name;
    EXPECT_TRUE(i.on_demand.has_price) << name;
    const auto& points = c.interconnect(i.interconnect).allreduce;
    // count_ = count: clang 14 (the sanitizer builds) cannot capture a structured binding.
    const bool has_tp = std::any_of(points.begin(), points.end(), [count_ = count](const AllReducePoint& p) {
      return p.tp == count_ && p.latency_ns > 0 && p.bus_bw_bytes_s > 0;
    });
    EXPECT_TRUE(has_tp) << name << ": no all-reduce point at tp " << count;
  }
  // Every multi-GPU instance must be able to run TP at its full GPU count.
  for (const auto& [name, i] : c.instances) {
    if (i.gpu_count < 2) continue;
    const auto& points = c.interconnect(i.interconnect).allreduce;
    EXPECT_TRUE(std::any_of(points.begin(), points.end(), [&inst = i](const AllReducePoint& p) { return p.tp == inst.gpu_count; }))
        << name;
  }
}

TEST(CatalogShipped, P5eHasNoOnDemandPriceButSaysWhy) {
  const InstanceSpec& i = shipped().instance("p5e.48xlarge");
  EXPECT_FALSE(i.on_demand.has_price);
  EXPECT_EQ(i.gpu, "H200");
  const auto& doc = shipped().document("instances", "p5e.48xlarge");
  EXPECT_FALSE(doc.at("on_demand").at("reason").get<std::string>().empty());
}

TEST(CatalogShipped, UnitsAreConvertedToTheFieldUnit) {
  const GpuSpec& g = shipped().gpu("A10G");
  EXPECT_DOUBLE_EQ(g.memory_bytes, 24.0 * 1024 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(g.mem_bw_bytes_s, 600e9);
  EXPECT_DOUBLE_EQ(g.peak_fp8_flops, 0.0);
  const auto& p4 = shipped().interconnect("pcie4-g5").allreduce;
  ASSERT_FALSE(p4.empty());
  EXPECT_EQ(p4.front().tp, 2);  // sorted by tp
  EXPECT_DOUBLE_EQ(p4.front().latency_ns, 8600.0);
}

TEST(CatalogShipped, EveryPublishedModelIdResolves) {
  // Every model id in the validation CSVs resolves (Llama-4-Scout included since shared_experts).
  const auto ids = csv_column("model");
  EXPECT_GE(ids.size(), 15U);
  for (const auto& id : ids) {
    EXPECT_TRUE(shipped().has_model(id)) << "model id from validation CSVs does not resolve: " << id;
  }
}

TEST(CatalogShipped, EveryPublishedGpuAndInstanceResolves) {
  const auto gpus = csv_column("gpu");
  EXPECT_GE(gpus.size(), 5U);
  for (const auto& g : gpus) EXPECT_TRUE(shipped().has_gpu(g)) << "gpu from validation CSVs: " << g;
  EXPECT_EQ(shipped().gpu("A100-80GB").name, "A100-80GB-SXM");
  EXPECT_EQ(shipped().gpu("H100-80GB-SXM").name, "H100-SXM");
  EXPECT_EQ(shipped().gpu("H200-141GB-SXM").name, "H200");
  for (const auto& i : csv_column("instance")) EXPECT_TRUE(shipped().has_instance(i)) << i;
}

TEST(CatalogShipped, PublishedWorkloadsOfOpenLoopAndSeedSetsResolve) {
  const auto names = csv_column("workload", {"blis_vllm_h100.csv", "seed_redhat_tgis.csv"});
  EXPECT_GE(names.size(), 6U);
  for (const auto& w : names) EXPECT_TRUE(shipped().has_workload(w)) << w;
  const WorkloadSpec& codegen = shipped().workload("codegen");
  EXPECT_EQ(codegen.kind, "shared_prefix");
  EXPECT_EQ(codegen.system_prompt_tokens, 100);
  EXPECT_EQ(codegen.question_tokens, 466);
  EXPECT_EQ(codegen.output_tokens, 247);
  EXPECT_EQ(codegen.num_groups, 11);
  EXPECT_EQ(codegen.users_per_group, 4);
  EXPECT_EQ(codegen.prompts_in_rotation, 44);  // inference-perf sends its 11 x 4 prompts in rotation
  ASSERT_EQ(codegen.stages.size(), 2U);
  EXPECT_DOUBLE_EQ(codegen.stages[1].rate_rps, 10.0);
  const WorkloadSpec& orca = shipped().workload("openorca-32");
  EXPECT_EQ(orca.kind, "dataset");
  EXPECT_TRUE(std::filesystem::exists(kConfigs / orca.dataset_file));
  EXPECT_TRUE(std::filesystem::exists(kConfigs / orca.token_counts_file));
}

TEST(CatalogShipped, ParameterCountsMatchReference) {
  // hardware_and_models.md §3: Llama-2-7B 6.74 B, Llama-2-70B 68.98 B, Mixtral 46.7 B / 12.9 B active.
  EXPECT_NEAR(parameter_count(shipped().model("llama-2-7b")) / 6.74e9, 1.0, 0.01);
  EXPECT_NEAR(parameter_count(shipped().model("meta-llama/Llama-2-70b-hf")) / 68.98e9, 1.0, 0.01);
  const ModelSpec& mixtral = shipped().model("mixtral-8x7b");
  EXPECT_NEAR(parameter_count(mixtral) / 46.7e9, 1.0, 0.01);
  EXPECT_NEAR(active_parameter_count(mixtral) / 12.9e9, 1.0, 0.01);
  // Interleaved MoE (every second layer) with a shared expert: the model card's 400 B / 17 B.
  const ModelSpec& maverick = shipped().model("llama-4-maverick");
  EXPECT_NEAR(parameter_count(maverick) / 400e9, 1.0, 0.01);
  EXPECT_NEAR(active_parameter_count(maverick) / 17e9, 1.0, 0.02);
  // Qwen3 MoE: names give the totals (235 B, 30.5 B) and the active counts (22 B, 3.3 B).
  EXPECT_NEAR(parameter_count(shipped().model("qwen3-235b-a22b")) / 235e9, 1.0, 0.01);
  EXPECT_NEAR(active_parameter_count(shipped().model("qwen3-235b-a22b")) / 22e9, 1.0, 0.03);
  EXPECT_NEAR(parameter_count(shipped().model("qwen3-30b-a3b")) / 30.5e9, 1.0, 0.01);
  EXPECT_NEAR(active_parameter_count(shipped().model("qwen3-30b-a3b")) / 3.3e9, 1.0, 0.03);
  EXPECT_NEAR(kv_bytes_per_token(shipped().model("llama-2-7b")), 512.0 * 1024, 1.0);
}

TEST(CatalogShipped, LookupIsCaseInsensitiveAndUnknownNamesListAlternatives) {
  const Catalog& c = shipped();
  EXPECT_EQ(c.model("META-LLAMA/LLAMA-2-7B-HF").name, "meta-llama/Llama-2-7b-hf");
  EXPECT_EQ(c.model("facebook/opt-13b").name, "facebook/opt-13b");
  EXPECT_EQ(c.gpu("h100-80gb-sxm").name, "H100-SXM");
  // Spaces read as '-', so names copied from nvidia-smi or a spreadsheet resolve.
  EXPECT_EQ(c.gpu("NVIDIA H100 80GB HBM3").name, "H100-SXM");
  EXPECT_EQ(c.gpu("NVIDIA A100-SXM4-80GB").name, "A100-80GB-SXM");
  EXPECT_TRUE(c.has_gpu(" L40S "));
  EXPECT_FALSE(c.has_gpu("H100 80GB"));
  try {
    (void)c.gpu("GB300");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("'GB300'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("H100-SXM"), std::string::npos) << msg;
  }
}

// Walks a document: every mapping that has `value` must also carry `source` (or, for profile
// parameters, `provenance` + `source`).
void expect_sourced(const nlohmann::json& j, const std::string& where) {
  if (j.is_object()) {
    if (j.contains("value")) {
      EXPECT_TRUE(j.contains("source")) << where;
      if (j.contains("source")) {
        EXPECT_FALSE(j["source"].get<std::string>().empty()) << where;
      }
    }
    for (const auto& [k, v] : j.items()) {
      if (k != "fit" && k != "value") expect_sourced(v, where + "." + k);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) expect_sourced(j[i], where + "[" + std::to_string(i) + "]");
  } else if (j.is_number() && where.find(".tp") == std::string::npos) {
    ADD_FAILURE() << "bare number at " << where;
  }
}

TEST(CatalogShipped, EveryNumberInOwnedKindsHasASource) {
  const Catalog& c = shipped();
  for (const char* kind : {"models", "gpus", "instances", "interconnects", "workloads"}) {
    for (const auto& name : c.names(kind)) expect_sourced(c.document(kind, name), std::string(kind) + ":" + name);
  }
}

// inference-perf's shared_prefix datagen sends prompt k mod N (N = system prompts x users): each whole
// prompt repeats verbatim, so it is one prefix group whose every full block is cacheable. Without the
// rotation only the system prompt is shared (the earlier model of the BLIS workloads).
TEST(CatalogShipped, SharedPrefixPromptsRepeatInRotation) {
  WorkloadSpec w = shipped().workload("codegen");
  auto source = make_shared_prefix_source(w, 42, 0);
  for (std::int64_t k = 0; k < 100; ++k) {
    const RequestShape r = source->next_open();
    EXPECT_EQ(r.prefix_group, k % 44) << k;
    EXPECT_EQ(r.input_tokens, 566);
    EXPECT_EQ(r.shared_prefix_tokens, 566);
  }
  w.prompts_in_rotation = 0;
  auto fresh = make_shared_prefix_source(w, 42, 0);
  for (int k = 0; k < 100; ++k) {
    const RequestShape r = fresh->next_open();
    EXPECT_GE(r.prefix_group, 0);
    EXPECT_LT(r.prefix_group, 11);
    EXPECT_EQ(r.shared_prefix_tokens, 100);
  }
}

}  // namespace
}  // namespace servetwin
