// Published rows written the way other people write them (tests/data/validate/published_names.csv: GPU labels
// without a form factor, model ids with org prefixes and -Instruct/-FP8/-chat words, precision spellings, branch
// engine versions, prompts longer than an engine default) either run, resolved to the catalog entry the row's
// expect_* columns name, or give a reason that names the field and the allowed values
// (configs/validation/row_deployment.yaml).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "sim/catalog/catalog.hpp"
#include "sim/validate/row_limits.hpp"
#include "sim/validate/row_mapping.hpp"
#include "sim/validate/row_names.hpp"
#include "sim/validate/validate.hpp"

namespace servetwin {
namespace {

const std::filesystem::path kFixture =
    std::filesystem::path(SERVETWIN_SOURCE_DIR) / "tests" / "data" / "validate" / "published_names.csv";

const Catalog& catalog() {
  static const Catalog c = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  return c;
}

const ValidationPolicy& policy() {
  static const ValidationPolicy p = load_checked_policy(catalog(), "");
  return p;
}

const std::vector<ValidationRow>& rows() {
  static const std::vector<ValidationRow> r = read_validation_csv(kFixture);
  return r;
}

const ValidationRow& row(const std::string& id) {
  for (const auto& r : rows()) {
    if (r.get("source_id") == id) return r;
  }
  throw std::runtime_error("no fixture row " + id);
}

TEST(PublishedNames, EveryRowRunsAsItsExpectedCatalogEntry) {
  int checked = 0;
  for (const auto& r : rows()) {
    if (r.get("expect_model").empty()) continue;
    SCOPED_TRACE(r.get("source_id"));
    const RowMapping m = map_row(catalog(), policy(), r, kFixture.parent_path());
    ASSERT_TRUE(m.scenario.has_value()) << m.reason;
    ValidationRow resolved;
    std::vector<std::string> notes;
    ASSERT_EQ(resolve_deployment_cells(catalog(), policy().deployment, r, resolved, notes), "");
    EXPECT_EQ(catalog().model(resolved.get("model")).name, r.get("expect_model"));
    EXPECT_EQ(catalog().gpu(resolved.get("gpu")).name, r.get("expect_gpu"));
    EXPECT_EQ(m.scenario->deployment.dtype, r.get("expect_dtype"));
    EXPECT_EQ(m.engine_preset, r.get("expect_preset"));
    ++checked;
  }
  EXPECT_EQ(checked, 36);
}

TEST(PublishedNames, ChoicesAreWrittenIntoTheRowsNotes) {
  auto notes_of = [](const std::string& id) {
    const RowMapping m = map_row(catalog(), policy(), row(id), kFixture.parent_path());
    std::string all;
    for (const auto& n : m.notes) all += n + "\n";
    return all;
  };
  EXPECT_NE(notes_of("gpu:a100-bare").find("read as A100-80GB-SXM"), std::string::npos);
  EXPECT_NE(notes_of("gpu:a100-p4d").find("the GPU of instance p4d.24xlarge"), std::string::npos);
  EXPECT_NE(notes_of("model:precision-wins").find("the precision cell 'bf16' wins"), std::string::npos);
  EXPECT_NE(notes_of("version:main").find("names a branch"), std::string::npos);
  // An exact catalog name or alias is used as written, with no note (so shipped rows map byte-identically).
  EXPECT_EQ(notes_of("gpu:a100-80gb"), "");
}

TEST(PublishedNames, LengthLimitsRaisedFromTheRowNeverLowered) {
  auto engine_set = [](const std::string& id) {
    const RowMapping m = map_row(catalog(), policy(), row(id), kFixture.parent_path());
    EXPECT_TRUE(m.scenario.has_value()) << m.reason;
    return m.scenario ? m.scenario->deployment.engine_set : std::map<std::string, std::string>{};
  };
  // Llama-2-7B's 4,096 positions: a 6,000-token prompt + 200 output tokens needs max_model_len 6,200.
  EXPECT_EQ(engine_set("limit:vllm-long-prompt")["max_model_len"], "6200");
  // The description's "up to 5000 tokens" is the longest prompt (mean 1,000) + 100 output.
  EXPECT_EQ(engine_set("limit:desc-max")["max_model_len"], "5100");
  // TGI 1.0 defaults 1,024 / 2,048 / 4,096: the first two are raised, the prefill budget already covers 1,500.
  auto tgi = engine_set("limit:tgi");
  EXPECT_EQ(tgi["max_input_length"], "1500");
  EXPECT_EQ(tgi["max_total_tokens"], "2100");
  EXPECT_EQ(tgi.count("max_batch_prefill_tokens"), 0u);
  // A short row keeps the preset's limits.
  EXPECT_EQ(engine_set("gpu:a100-80gb").count("max_model_len"), 0u);
}

TEST(PublishedNames, StatedPromptReadsMeanAndDescription) {
  ValidationRow r;
  r.cells["input_tokens_mean"] = "812.4";
  EXPECT_EQ(stated_prompt_tokens(r), 813);
  r.cells["input_tokens_desc"] = "32-prompt OpenOrca subset; the longest input is 1,688 tokens";
  EXPECT_EQ(stated_prompt_tokens(r), 1688);
  r.cells["input_tokens_desc"] = "ShareGPT, max=900";
  EXPECT_EQ(stated_prompt_tokens(r), 900);  // the larger of the mean (813) and the stated maximum
  r.cells["input_tokens_mean"] = "";
  r.cells["input_tokens_desc"] = "ShareGPT";
  EXPECT_FALSE(stated_prompt_tokens(r).has_value());
}

TEST(PublishedNames, UnreadableRowsGiveTheFieldAndAllowedValues) {
  auto reason = [](const std::string& id) { return map_row(catalog(), policy(), row(id), kFixture.parent_path()).reason; };
  EXPECT_NE(reason("reason:h100-nvl").find("gpu 'H100 NVL': H100 NVL (94 GB HBM3"), std::string::npos);
  EXPECT_NE(reason("reason:awq").find("model 'TheBloke/Llama-2-7B-AWQ' has quantized weights ('awq')"),
            std::string::npos);
  EXPECT_NE(reason("reason:awq").find("allowed: a 16-bit, FP8 or NVFP4 checkpoint"), std::string::npos);
  // MXFP4 (gpt-oss) is another 4-bit format than NVFP4: no datapath, a reason.
  EXPECT_NE(reason("reason:mxfp4").find("has quantized weights ('mxfp4')"), std::string::npos);
  EXPECT_NE(reason("reason:v100").find("gpu 'V100' is not in the catalog; allowed: A10, A100-40GB-SXM"),
            std::string::npos);
  EXPECT_EQ(reason("reason:int4"), "precision 'int4' is not modelled (fp16, bf16, fp8, fp4)");
  EXPECT_NE(reason("reason:mistral-v0.3").find("(read as 'mistral-7b-v0.3') is not in the catalog; allowed:"),
            std::string::npos);
  EXPECT_NE(reason("reason:a10-profile").find("no hardware profile for GPU A10"), std::string::npos);
  EXPECT_EQ(reason("reason:fp8-on-a100"),
            "precision fp8 on GPU A100-80GB-SXM, which has no FP8 tensor cores; allowed on it: fp16, bf16");
  // NVFP4 weights need FP4 tensor cores (Blackwell): on an H100 the row says so and what the H100 can run.
  EXPECT_EQ(reason("reason:fp4-on-h100"),
            "precision fp4 on GPU H100-SXM, which has no FP4 tensor cores; allowed on it: fp16, bf16, fp8");
}

TEST(PublishedNames, FixtureRunsEndToEnd) {
  ValidateOptions o;
  o.data = {kFixture};
  o.jobs = 2;
  const auto report = run_validation(catalog(), o);
  const auto& src = report["sources"]["published_names.csv"];
  EXPECT_EQ(src["rows"], 45);
  EXPECT_EQ(src["ran"], 36);
  EXPECT_EQ(src["unsupported"].size(), 9u);
  for (const auto& r : report["rows"]) {
    EXPECT_FALSE(r.contains("run_error")) << r["source_id"];
  }
}

}  // namespace
}  // namespace servetwin
