// The validation policy as data (configs/validation): a new published source is one YAML next to its CSV, the
// fit/score split holds on real rows (and the check fails when a fit row is scored), and bad policy files fail
// with the file, the field and the allowed values.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "sim/catalog/catalog.hpp"
#include "sim/validate/validate.hpp"
#include "tests/shipped_catalog.hpp"

namespace servetwin {
namespace {

const std::filesystem::path kShippedPolicy = std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs" / "validation";
const std::filesystem::path kPublished = std::filesystem::path(SERVETWIN_SHARED_DIR) / "validation" / "published";

// A scratch copy of the shipped policy folder, removed again at the end of the test.
class PolicyCopy {
 public:
  explicit PolicyCopy(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() / ("servetwin_policy_" + name)) {
    std::filesystem::remove_all(dir_);
    std::filesystem::copy(kShippedPolicy, dir_, std::filesystem::copy_options::recursive);
  }
  ~PolicyCopy() { std::filesystem::remove_all(dir_); }
  PolicyCopy(const PolicyCopy&) = delete;
  PolicyCopy& operator=(const PolicyCopy&) = delete;
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  void write(const std::string& relative, const std::string& text) const { std::ofstream(dir_ / relative) << text; }
  // Replaces `from` by `to` in a policy file (exactly once).
  void edit(const std::string& relative, const std::string& from, const std::string& to) const {
    std::ifstream in(dir_ / relative);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    write(relative, text);
  }

 private:
  std::filesystem::path dir_;
};

std::string config_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// A made-up source "toy": one YAML maps its vLLM rows to the 0.6 preset whatever their version and gives their
// bf16 deployments an engine setting; the same cells under another source keep the shared rules.
TEST(ValidationPolicy, NewSourceIsOneYamlAndItsCsv) {
  const PolicyCopy policy("toy");
  policy.write("sources/toy.yaml", R"(kind: validation_source
source: toy
name: Toy benchmark
csv: toy.csv
provenance: made up for this test
presets:
  - engines: [vllm]
    preset: vllm-0.6-v0
    why: the toy lab ran vLLM 0.6 whatever its CSV says
engine_settings:
  - dtypes: [bf16]
    set:
      - {key: max_num_seqs, value: "7"}
    why: the toy lab capped its batch
)");
  const auto csv = policy.dir() / "toy.csv";
  std::ofstream(csv) << "source_id,model,gpu,num_gpus,tp,precision,engine,engine_version,input_tokens_mean,"
                        "output_tokens_mean,load_type,load_value,duration_s,ttft_mean_ms\n"
                        "toy:a,meta-llama/Llama-3.1-8B-Instruct,H100-80GB-SXM,1,1,bf16,vllm,0.15.1,500,200,"
                        "poisson_rate,1,20,30\n"
                        "other:a,meta-llama/Llama-3.1-8B-Instruct,H100-80GB-SXM,1,1,bf16,vllm,0.15.1,500,200,"
                        "poisson_rate,1,20,30\n";
  ValidateOptions o;
  o.data = {csv};
  o.policy_dir = policy.dir();
  const auto report = run_validation(shipped_catalog(), o);
  ASSERT_EQ(report["rows"].size(), 2u) << report["sources"].dump();
  EXPECT_EQ(report["rows"][0]["engine_preset"], "vllm-0.6-v0");
  EXPECT_EQ(report["rows"][0]["deployment"]["engine_set"]["max_num_seqs"], "7");
  EXPECT_EQ(report["rows"][1]["engine_preset"], "vllm-0.15");
  EXPECT_FALSE(report["rows"][1]["deployment"]["engine_set"].contains("max_num_seqs"));
  // Without the YAML the toy rows are like any other.
  o.policy_dir.clear();
  const auto shipped = run_validation(shipped_catalog(), o);
  EXPECT_EQ(shipped["rows"][0]["engine_preset"], "vllm-0.15");
}

// The split on real rows: DistServe's 2 req/s runs fitted cpu_step_ns. With the shipped policy they run but are
// not scored. With a policy whose fit set selects no row, they are scored, and the split check (against the
// shipped policy) must catch that.
TEST(ValidationPolicy, ScoringAFitRowIsCaught) {
  const std::string file = "distserve_vllm_a100.csv";
  ValidateOptions o;
  o.data = {kPublished / file};
  o.jobs = 2;
  const ValidationPolicy shipped = load_checked_policy(shipped_catalog(), {});
  const auto honest = run_validation(shipped_catalog(), o);
  EXPECT_EQ(honest["sources"][file]["fit_excluded"].size(), 2u);
  EXPECT_NO_THROW(check_no_fit_rows_scored(shipped, honest));

  const PolicyCopy leaky("leaky");
  leaky.edit("sources/distserve.yaml", "ends_with: [vllm-100-2, vllm-200-2]", "ends_with: [no-such-run]");
  o.policy_dir = leaky.dir();
  const auto leaked = run_validation(shipped_catalog(), o);
  EXPECT_EQ(leaked["sources"][file]["fit_excluded"].size(), 0u);
  EXPECT_EQ(leaked["sources"][file]["scored"], honest["sources"][file]["scored"].get<int>() + 2);
  EXPECT_THROW(check_no_fit_rows_scored(shipped, leaked), std::logic_error);
}

TEST(ValidationPolicy, BadFilesNameFileFieldAndAllowedValues) {
  {
    const PolicyCopy p("bad_load_type");
    p.edit("row_mapping.yaml", "load_types: [offline]", "load_types: [offline, burst]");
    const std::string e = config_error([&] { (void)load_validation_policy(p.dir()); });
    EXPECT_NE(e.find("row_mapping.yaml:"), std::string::npos) << e;
    EXPECT_NE(e.find("load_types"), std::string::npos) << e;
    EXPECT_NE(e.find("bad value 'burst'"), std::string::npos) << e;
    EXPECT_NE(e.find("poisson_rate, closed_concurrency, offline, static_batch"), std::string::npos) << e;
  }
  {
    const PolicyCopy p("unknown_key");
    p.edit("sources/blis_s2r.yaml", "csv: blis_vllm_h100.csv", "csv: blis_vllm_h100.csv\nfile: x");
    const std::string e = config_error([&] { (void)load_validation_policy(p.dir()); });
    EXPECT_NE(e.find("blis_s2r.yaml:"), std::string::npos) << e;
    EXPECT_NE(e.find("key 'file': unknown key"), std::string::npos) << e;
  }
  {
    // A fit set must be claimed by its preset's fitted_on (else the preset's own provenance disagrees).
    const PolicyCopy p("unclaimed");
    p.edit("sources/distserve.yaml", "preset: vllm-0.2-distserve\n    parameters", "preset: vllm-0.6-v0\n    parameters");
    const std::string e = config_error([&] { check_policy_against_catalog(load_validation_policy(p.dir()), shipped_catalog(), p.dir()); });
    EXPECT_NE(e.find("distserve.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("fitted_on is 'none'"), std::string::npos) << e;
  }
  {
    // A preset's fitted_on must name a fit set some source defines.
    const PolicyCopy p("undefined");
    std::filesystem::remove(p.dir() / "sources" / "splitwise.yaml");
    const std::string e = config_error([&] { check_policy_against_catalog(load_validation_policy(p.dir()), shipped_catalog(), p.dir()); });
    EXPECT_NE(e.find("fitted_on 'splitwise_h100_llama_b1' is not a fit set"), std::string::npos) << e;
  }
  const std::string missing = config_error([] { (void)load_validation_policy("/nonexistent/validation"); });
  EXPECT_NE(missing.find("row_mapping.yaml"), std::string::npos) << missing;
}

}  // namespace
}  // namespace servetwin
