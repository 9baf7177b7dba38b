// vLLM V1's default max_num_seqs / max_num_batched_tokens depend on the GPU and on the entry point
// (vllm_scheduling.md §2, engine/arg_utils.py in 0.9-0.15): >= 70 GiB and not an A100 gets
// 1024 / 8192 in the API server and 1024 / 16384 in the offline LLM class; other GPUs 256 / 2048
// and 256 / 8192. The shipped vllm-0.15 preset leaves both unset, so the rule decides; a value the
// deployment sets wins. Read back from the engine's resolved settings.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "sim/catalog/catalog.hpp"
#include "sim/core/event_queue.hpp"
#include "sim/engine/serving_sim.hpp"
#include "sim/scenario/scenario.hpp"
#include "tests/sim/closed_loop_scenario.hpp"

namespace servetwin {
namespace {

struct Limits {
  std::int64_t seqs = 0, tokens = 0;
  std::string seqs_from;
};

Limits limits_on(const Catalog& catalog, const std::string& gpu, const std::map<std::string, std::string>& set = {},
                 const std::string& preset = "vllm-0.15", const std::string& model = "meta-llama/Llama-3.1-8B-Instruct") {
  Scenario s = testing_scenarios::closed_loop_scenario(model, gpu, preset, 128, 16, 1, 1);
  s.deployment.engine_set = set;
  const Scenario r = resolve_scenario(catalog, s);
  EventQueue q;
  const auto sim = make_serving_sim(catalog, r.deployment, q, nullptr);
  const auto st = sim->stats().at("settings");
  return {st.at("max_num_seqs").at("value").get<std::int64_t>(),
          st.at("max_num_batched_tokens").at("value").get<std::int64_t>(),
          st.at("max_num_seqs").at("from").get<std::string>()};
}

TEST(VllmDefaultLimits, FollowV1RuleByGpuAndEntryPoint) {
  const Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  struct Case {
    const char* gpu;
    std::int64_t seqs, tokens;
  };
  // API server defaults.
  for (const Case& c : {Case{"H100-SXM", 1024, 8192}, Case{"H200", 1024, 8192}, Case{"H100-PCIe", 1024, 8192},
                        Case{"A100-80GB-SXM", 256, 2048}, Case{"A100-40GB-SXM", 256, 2048}, Case{"L40S", 256, 2048},
                        Case{"L4", 256, 2048}}) {
    const Limits l = limits_on(catalog, c.gpu);
    EXPECT_EQ(l.seqs, c.seqs) << c.gpu;
    EXPECT_EQ(l.tokens, c.tokens) << c.gpu;
    EXPECT_EQ(l.seqs_from, "default") << c.gpu;
  }
  // Offline LLM class.
  const Limits h100_offline = limits_on(catalog, "H100-SXM", {{"default_limits", "v1_offline"}});
  EXPECT_EQ(h100_offline.seqs, 1024);
  EXPECT_EQ(h100_offline.tokens, 16384);
  const Limits l4_offline = limits_on(catalog, "L4", {{"default_limits", "v1_offline"}});
  EXPECT_EQ(l4_offline.seqs, 256);
  EXPECT_EQ(l4_offline.tokens, 8192);
  // V0's fixed defaults, and explicit values, ignore the GPU.
  const Limits fixed = limits_on(catalog, "H100-SXM", {{"default_limits", "fixed"}});
  EXPECT_EQ(fixed.seqs, 256);
  EXPECT_EQ(fixed.tokens, 2048);
  const Limits pinned = limits_on(catalog, "H100-SXM", {{"max_num_seqs", "128"}, {"max_num_batched_tokens", "2048"}});
  EXPECT_EQ(pinned.seqs, 128);
  EXPECT_EQ(pinned.tokens, 2048);
  EXPECT_NE(pinned.seqs_from, "default");
}

// V0 0.2-0.6 (vllm-0.6-v0): a budget of max(max_model_len, 2048) whatever the GPU; above 32K of
// context (where 0.6 would chunk prefills) the preset's 8192 stand-in.
TEST(VllmDefaultLimits, V0BudgetFollowsContextLength) {
  const Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  struct Case {
    const char* model;
    std::int64_t tokens;
  };
  for (const Case& c : {Case{"facebook/opt-13b", 2048}, Case{"meta-llama/Llama-2-7b-hf", 4096},
                        Case{"meta-llama/Meta-Llama-3-8B", 8192}, Case{"meta-llama/Llama-3.1-8B-Instruct", 8192}}) {
    const Limits l = limits_on(catalog, "H100-SXM", {}, "vllm-0.6-v0", c.model);
    EXPECT_EQ(l.tokens, c.tokens) << c.model;
    EXPECT_EQ(l.seqs, 256) << c.model;
  }
  // A capped context moves the budget with it.
  const Limits capped = limits_on(catalog, "A100-80GB-SXM", {{"max_model_len", "3000"}}, "vllm-0.6-v0",
                                  "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(capped.tokens, 3000);
}

}  // namespace
}  // namespace servetwin
