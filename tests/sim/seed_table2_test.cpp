// Accuracy bar of issue 4: each of the six rows of ../shared/validation/published/seed_redhat_tgis.csv
// (throughput at concurrency 10) predicted within +-15%. Tolerance source: issue 4 ("within +-15% of the
// published value; our goal is +-5%").
//
// One parameter is fitted on these rows: host_op_ns, the host time per Python-level operation of an eager
// PyTorch engine (sim/cost/eager_overhead.hpp: operations per layer by architecture x this cost), which
// depends on the host CPU and so lives in the platform's hardware profile:
//  - g5 (A10G hosts): fitted with the TGIS preset on the five g5 rows; each g5 row is scored with a
//    leave-one-out fit on the other four, and the A10G profile's value must be the fit on all five;
//  - p4d (A100-40GB hosts): the A100-40GB-SXM profile's host_op_ns is NOT fitted on any row of this table;
//    it is derived from an independent measurement (checked below), so the p4d row is fully out of sample.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/scenario/scenario.hpp"

namespace servetwin {
namespace {

struct Row {
  std::string source_id, model, instance;
  int tp;
  double measured_tok_s;
  bool g5 = true;  // platform group of the fitted parameter
};

// Read from seed_redhat_tgis.csv by the first test below, so a change in the file cannot go unnoticed.
const std::vector<Row> kRows = {
    {"redhat_tgis:llama-2-7b:g5.2xlarge:c10", "meta-llama/Llama-2-7b-hf", "g5.2xlarge", 1, 161.3},
    {"redhat_tgis:llama-2-7b:g5.12xlarge:c10", "meta-llama/Llama-2-7b-hf", "g5.12xlarge", 4, 336.96},
    {"redhat_tgis:llama-2-13b:g5.12xlarge:c10", "meta-llama/Llama-2-13b-hf", "g5.12xlarge", 4, 203.24},
    {"redhat_tgis:llama-2-13b:g5.48xlarge:c10", "meta-llama/Llama-2-13b-hf", "g5.48xlarge", 8, 224.55},
    {"redhat_tgis:llama-2-70b:g5.48xlarge:c10", "meta-llama/Llama-2-70b-hf", "g5.48xlarge", 8, 62.65},
    {"redhat_tgis:llama-2-70b:p4d.24xlarge:c10", "meta-llama/Llama-2-70b-hf", "p4d.24xlarge", 8, 155.18, false},
};

constexpr double kTolerance = 0.15;  // issue 4
// Fit grid for host_op_ns: 0 to 60 us per operation in 1 us steps.
constexpr double kGridStepNs = 1'000;
constexpr int kGridPoints = 61;

// host_op_ns < 0: use the profile as shipped. `users`: the closed loop's threads (Table 2: 10).
double predict(const Catalog& catalog, const Row& row, double host_op_ns, int users = 10) {
  Scenario s;
  s.deployment.model = row.model;
  s.deployment.instance = row.instance;
  s.deployment.tp = row.tp;
  s.deployment.engine = "tgis-rhoai-2024q1";
  if (host_op_ns >= 0) s.deployment.engine_set["host_op_ns"] = std::to_string(host_op_ns);
  s.workload = "openorca-32";
  s.load.type = "closed";
  s.load.levels = {static_cast<double>(users)};
  s.duration_s = 240;
  s = resolve_scenario(catalog, s);
  return run_stage(catalog, s, 0, false).metrics.throughput_output_tok_s;
}

// Index of the grid point minimising the squared log error over `rows` (ties: the smaller value).
int fit(const std::vector<std::vector<double>>& pred, const std::vector<std::size_t>& rows) {
  int best = 0;
  double best_loss = std::numeric_limits<double>::infinity();
  for (int g = 0; g < kGridPoints; ++g) {
    double loss = 0;
    for (const auto r : rows) {
      const double e = std::log(pred[r][static_cast<std::size_t>(g)] / kRows[r].measured_tok_s);
      loss += e * e;
    }
    if (loss < best_loss - 1e-12) {
      best_loss = loss;
      best = g;
    }
  }
  return best;
}

TEST(SeedTable2, RowsMatchThePublishedCsv) {
  const std::string path = std::string(SERVETWIN_SHARED_DIR) + "/validation/published/seed_redhat_tgis.csv";
  FILE* f = std::fopen(path.c_str(), "r");
  ASSERT_NE(f, nullptr) << path;
  std::string content;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) content.append(buf, n);
  std::fclose(f);
  for (const auto& row : kRows) {
    const auto at = content.find(row.source_id + ",");
    ASSERT_NE(at, std::string::npos) << row.source_id;
    char value[32];
    std::snprintf(value, sizeof value, ",%g,", row.measured_tok_s);
    const auto line_end = content.find('\n', at);
    EXPECT_NE(content.substr(at, line_end - at).find(value), std::string::npos)
        << row.source_id << " throughput " << row.measured_tok_s << " not in the CSV row";
  }
}

TEST(SeedTable2, ThroughputWithin15PercentOutOfSample) {
  const Catalog catalog = Catalog::load(default_config_dir());
  std::vector<std::vector<double>> pred(kRows.size(), std::vector<double>(kGridPoints));
  std::vector<std::size_t> g5;
  for (std::size_t r = 0; r < kRows.size(); ++r) {
    if (!kRows[r].g5) continue;
    g5.push_back(r);
    for (int g = 0; g < kGridPoints; ++g) pred[r][static_cast<std::size_t>(g)] = predict(catalog, kRows[r], g * kGridStepNs);
  }

  std::printf("%-42s %10s %10s %14s %8s\n", "row (concurrency 10)", "measured", "predicted", "host_op_us", "error");
  for (std::size_t r = 0; r < kRows.size(); ++r) {
    double p = 0, used_us = 0;
    std::string how;
    if (kRows[r].g5) {
      std::vector<std::size_t> train;
      for (const auto i : g5) {
        if (i != r) train.push_back(i);
      }
      const int g = fit(pred, train);
      p = pred[r][static_cast<std::size_t>(g)];
      used_us = g * kGridStepNs / 1000;
      how = " (leave-one-out fit on the other g5 rows)";
    } else {
      p = predict(catalog, kRows[r], -1);  // independent source, as shipped
      used_us = catalog.profile("A100-40GB-SXM").host_op_ns.value / 1000;
      how = " (value from an independent measurement)";
    }
    const double err = p / kRows[r].measured_tok_s - 1;
    std::printf("%-42s %10.1f %10.1f %14.0f %+7.1f%%\n", kRows[r].source_id.c_str(), kRows[r].measured_tok_s, p, used_us,
                100 * err);
    EXPECT_LE(std::abs(err), kTolerance) << kRows[r].source_id << how;
  }

  // The A10G profile's value must be the fit on all five g5 rows, as its `source:` states.
  const int g_all = fit(pred, g5);
  EXPECT_DOUBLE_EQ(catalog.profile("A10G").host_op_ns.value, g_all * kGridStepNs)
      << "re-fit on the g5 rows gives " << g_all * kGridStepNs << " ns: update configs/profiles/a10g.yaml";
}

// The A100-40GB-SXM profile's host_op_ns comes from rkooo567/llm_benchmark (../shared/reference/tp_on_aws.md §5):
// vLLM of 2023 (eager PyTorch, no CUDA graphs, NCCL TP: the same dispatch structure as TGIS's flash path)
// served Llama-2-70B TP8 on 8x A100-40GB at batch 32, 1 input / 2048 output tokens, in 133.7 s, i.e.
// 65.3 ms per decode step, of which vLLM V0's serial per-step CPU bubble is 5-13 ms (low end 5 ms,
// vllm_scheduling.md §5, vLLM #6854). Simulated with that per-step cost and the shipped per-operation value,
// the step must come out at the source's 65.3 ms (5%: the source's rounding).
TEST(SeedTable2, A100DispatchCostReproducesItsSource) {
  const Catalog catalog = Catalog::load(default_config_dir());
  Scenario s;
  s.deployment.model = "meta-llama/Llama-2-70b-hf";
  s.deployment.instance = "p4d.24xlarge";
  s.deployment.engine = "tgis-rhoai-2024q1";
  s.deployment.engine_set["max_batch_size"] = "32";
  s.deployment.engine_set["cpu_step_ns"] = "5e6";  // the source engine's per-step bubble (see above)
  for (int i = 0; i < 32; ++i) s.trace_rows.push_back(TraceRow{0.0, 1, 2048});
  s = resolve_scenario(catalog, s);
  const StageResult st = run_stage(catalog, s, 0, false);
  // All 32 start together (one prefill), then 2047 decode steps of the full batch.
  const double step_ms = st.metrics.tpot_ms.mean;
  std::printf("70B TP8 p4d, batch 32, 2048 tokens: simulated %.1f ms/step, source 65.3 ms/step\n", step_ms);
  EXPECT_NEAR(step_ms, 65.3, 0.05 * 65.3);
}


// The article's text facts on scaling with concurrency (../shared/validation/published/README.md,
// seed_redhat_tgis.csv "Text facts from the article"), checked on the preset as shipped. Table 2 only has
// concurrency 10; these are the article's only statements about other loads:
//   - "Llama-2-7B throughput stops rising at about 20 concurrent threads" on g5.2xlarge;
//   - "Llama-2-13B on g5.12xlarge scales to at least 30 threads";
//   - "Llama-2-70B on p4d keeps scaling up to 30 threads".
// Reading of the words (ours, stated here): "stops rising" = less than +10% from 20 to 30 threads while
// still rising by more than 10% from 10 to 20; "scales"/"keeps scaling" = more than +10% from 20 to 30.
struct Curve {
  double c10, c20, c30;
};

Curve scaling_curve(const Row& row) {
  const Catalog catalog = Catalog::load(default_config_dir());
  const Curve c{predict(catalog, row, -1, 10), predict(catalog, row, -1, 20), predict(catalog, row, -1, 30)};
  std::printf("%s: %.1f / %.1f / %.1f tok/s at 10 / 20 / 30 threads\n", row.source_id.c_str(), c.c10, c.c20, c.c30);
  return c;
}

TEST(SeedTextFacts, Llama2_7bOnG5_2xlargeStopsRisingAtAbout20Threads) {
  const Curve c = scaling_curve(kRows[0]);
  EXPECT_GT(c.c20 / c.c10, 1.10);
  EXPECT_LT(c.c30 / c.c20, 1.10);
}

TEST(SeedTextFacts, Llama2_13bOnG5_12xlargeScalesTo30Threads) {
  const Curve c = scaling_curve(kRows[2]);
  EXPECT_GT(c.c30 / c.c20, 1.10);
}

TEST(SeedTextFacts, Llama2_70bOnP4dKeepsScalingTo30Threads) {
  const Curve c = scaling_curve(kRows[5]);
  EXPECT_GT(c.c30 / c.c20, 1.10);
}

}  // namespace
}  // namespace servetwin
