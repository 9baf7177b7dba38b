// Prediction intervals (sim/interval, sim/validate/validation_intervals): interval coverage counted right on
// hand-made rows, leave-one-source-out really leaves the row's own source out, out_of_evidence fires for an
// unseen GPU and engine, the conformal quantile and its coverage, and a malformed residual table names file, line
// and field.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "sim/catalog/catalog.hpp"
#include "sim/interval/interval_model.hpp"
#include "sim/interval/stage_interval.hpp"
#include "sim/validate/validation_intervals.hpp"

namespace servetwin {
namespace {

StageRegime regime(const std::string& gpu = "H100-SXM", const std::string& engine = "vllm-0.15") {
  StageRegime r;
  r.load = "light";
  r.queue_wait_share = 0.1;
  r.cuda_graphs = true;
  r.gpu = gpu;
  r.engine = engine;
  r.model_params_b = 7;
  return r;
}

// `n` residuals of `file` for ttft_mean_ms, spread evenly over [center - 0.1, center + 0.1].
void add_source(std::vector<Residual>& out, const std::string& file, double center, int n = 10,
                const std::string& gpu = "H100-SXM", const std::string& engine = "vllm-0.15") {
  for (int i = 0; i < n; ++i) {
    const double offset = n > 1 ? -0.1 + 0.2 * i / (n - 1) : 0.0;
    out.push_back({file, file, file + ":" + std::to_string(i), "ttft_mean_ms", regime(gpu, engine), center + offset});
  }
}

nlohmann::json row(const std::string& file, int i, double predicted, double measured, bool scored = true) {
  return {{"source_id", file + ":" + std::to_string(i)}, {"file", file}, {"scored", scored},
          {"regime", regime().to_json()},
          {"predicted", {{"ttft_mean_ms", predicted}}}, {"measured", {{"ttft_mean_ms", measured}}}};
}

TEST(PredictionInterval, ConformalQuantileIsTheFiniteSampleRank) {
  // Scores 1..20 with equal weights at 80%: the ceil((20 + 1) 0.8) = 17th smallest, not the plain empirical
  // 80% quantile (16th), and no interpolation between scores.
  std::vector<std::pair<double, double>> scores;
  for (int i = 1; i <= 20; ++i) scores.emplace_back(i, 1.0);
  EXPECT_DOUBLE_EQ(conformal_quantile(scores, 0.8), 17.0);
  EXPECT_DOUBLE_EQ(conformal_quantile(scores, 0.5), 11.0);  // ceil(21 x 0.5) = 11
  // The rank is the same whatever the common weight (weights are relative).
  for (auto& [v, w] : scores) w = 0.05;
  EXPECT_DOUBLE_EQ(conformal_quantile(scores, 0.8), 17.0);
  // (n + 1) level > n: no finite conformal bound, the largest score is the closest.
  EXPECT_DOUBLE_EQ(conformal_quantile({{1, 1}, {2, 1}, {3, 1}}, 0.8), 3.0);
  // Unequal weights: n_eff = (sum w)^2 / sum w^2 = 16 / 10 = 1.6 for {3, 1}: share 0.5 x (1 + 1/1.6) = 0.8125 of
  // the weight is needed, which the 0 alone (0.75) does not reach.
  EXPECT_DOUBLE_EQ(conformal_quantile({{0, 3}, {10, 1}}, 0.5), 10.0);
  EXPECT_DOUBLE_EQ(conformal_quantile({{0, 3}, {10, 1}}, 0.4), 0.0);  // 0.4 x 1.625 = 0.65 <= 0.75
}

TEST(PredictionInterval, CoversNewExchangeableResidualsAtTheLevel) {
  // Split conformal's guarantee, checked by simulation: when a new source's residual is drawn from the same
  // distribution as the pool's (3 sources x 4, the smallest pool allowed), it falls inside the band with
  // probability in [level, level + 1/(n + 1)] = [0.8, 0.877] for n = 12. 4,000 draws: Monte-Carlo sd 0.0063,
  // so the check allows 3 sd beyond either end. The signed, interpolated 10%/90% quantiles this replaced cover
  // about 0.75 here (n = 12 leaves 2.4 residuals for the two tails together; Python simulation, 20,000 draws).
  std::mt19937 rng(17);
  std::normal_distribution<double> error(0.1, 0.3);  // a biased model: the band must not assume a centre of 0
  int inside = 0;
  const int trials = 4000;
  for (int t = 0; t < trials; ++t) {
    std::vector<Residual> res;
    for (const char* file : {"b.csv", "c.csv", "d.csv"}) {
      for (int i = 0; i < 4; ++i) res.push_back({file, file, file, "ttft_mean_ms", regime(), error(rng)});
    }
    const MetricBand b = IntervalModel(res, 0.8, "test").band("ttft_mean_ms", regime(), {"a.csv", "a.csv"});
    ASSERT_TRUE(b.found);
    const double fresh = error(rng);
    if (fresh >= b.lo_log && fresh <= b.hi_log) ++inside;
  }
  const double coverage = static_cast<double>(inside) / trials;
  EXPECT_GE(coverage, 0.8 - 3 * 0.0063);
  EXPECT_LE(coverage, 0.8 + 1.0 / 13 + 3 * 0.0063);
}

TEST(PredictionInterval, BandIsSymmetricWhateverTheVisibleBias) {
  // Every other source over-predicts (ln ratio 0.1..0.3): a new source may under-predict as much, so the band is
  // +-q, not [0.1, 0.3].
  std::vector<Residual> res;
  add_source(res, "b.csv", 0.2);
  add_source(res, "c.csv", 0.2);
  add_source(res, "d.csv", 0.2);
  const MetricBand b = IntervalModel(res, 0.8, "test").band("ttft_mean_ms", regime(), {});
  ASSERT_TRUE(b.found);
  EXPECT_DOUBLE_EQ(b.lo_log, -b.hi_log);
  EXPECT_GT(b.hi_log, 0.25);
  EXPECT_LE(b.hi_log, 0.3 + 1e-12);
}

TEST(PredictionInterval, ANewSourceTakesAnySourcesBiasWithAnySourcesSpread) {
  // b: bias 0.2, deviations +-0.1 (0.1, 0.1, 0.3, 0.3); c and d: exact (0 x 4 each). Scored as paired, the 80%
  // band would be +-0.3: n_eff = 3^2 / (3/4) = 12, so 0.8 x 13/12 = 86.7% of the weight is needed, and 0 (2/3)
  // plus 0.1 (1/6) reach only 83.3%. Recombined, every residual's deviation is scored with each source's bias,
  // each pair weighing 1/(4 x 3): 0 x 16, 0.1 x 10 (b's deviations at bias 0 and at 0.2 - 0.1), 0.2 x 8 (c and d
  // at b's bias), 0.3 x 2, out of 36. 86.7% of 36 is 31.2: 0.1 reaches 26, 0.2 reaches 34, so the band is +-0.2.
  // The 0.3 came only from b's bias paired with b's own upper deviation.
  std::vector<Residual> res;
  for (double lr : {0.1, 0.1, 0.3, 0.3}) res.push_back({"b.csv", "b.csv", "b", "ttft_mean_ms", regime(), lr});
  for (const char* file : {"c.csv", "d.csv"}) {
    for (int i = 0; i < 4; ++i) res.push_back({file, file, file, "ttft_mean_ms", regime(), 0.0});
  }
  const MetricBand b = IntervalModel(res, 0.8, "test").band("ttft_mean_ms", regime(), {});
  ASSERT_TRUE(b.found);
  EXPECT_NEAR(b.hi_log, 0.2, 1e-12);
  // The rank comes from the n_eff given (the residuals'), not from the number of scores: 5 equal scores at 70%
  // need 0.7 x 6/5 = 84% of the weight (the 5th) by their own count, 0.7 x 21/20 = 73.5% (the 4th) at n_eff 20.
  const std::vector<std::pair<double, double>> five = {{0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 1}};
  EXPECT_DOUBLE_EQ(conformal_quantile(five, 0.7), 4.0);
  EXPECT_DOUBLE_EQ(conformal_quantile(five, 0.7, 20.0), 3.0);
}

TEST(PredictionInterval, BoundsAreOnTheMeasuredValue) {
  // ln(pred/meas) in [-0.1, 0.2]: measured in [pred e^-0.2, pred e^0.1].
  MetricBand b;
  b.found = true;
  b.lo_log = -0.1;
  b.hi_log = 0.2;
  const auto [lo, hi] = b.bounds(100);
  EXPECT_NEAR(lo, 100 * std::exp(-0.2), 1e-9);
  EXPECT_NEAR(hi, 100 * std::exp(0.1), 1e-9);
  b.inverted = true;  // a cost column: priced throughput
  EXPECT_NEAR(b.bounds(100).first, 100 * std::exp(-0.1), 1e-9);
}

TEST(PredictionInterval, CoverageCountsMeasuredValuesInsideTheInterval) {
  // Evidence: three other sources with ln(pred/meas) spread over [-0.1, 0.1]: the 80% band is +-0.1 (the 25th
  // smallest of 30 |ln ratio|), so the measured value must lie within about 10% of the prediction.
  std::vector<Residual> res;
  add_source(res, "b.csv", 0.0);
  add_source(res, "c.csv", 0.0);
  add_source(res, "d.csv", 0.0);  // a pool needs kMinPoolSources = 3 sources
  const IntervalModel model(res, 0.8, "test");
  nlohmann::json report = {{"sources", {{"a.csv", {{"metrics", {{"ttft_mean_ms", {{"n", 4}}}}}}}}},
                           {"rows",
                            {row("a.csv", 0, 100, 100),      // inside
                             row("a.csv", 1, 100, 104),      // inside
                             row("a.csv", 2, 100, 150),      // outside
                             row("a.csv", 3, 100, 50),       // outside
                             row("a.csv", 4, 100, 500, false)}}};  // a fit row: interval, but not counted
  add_interval_columns(report, model);
  const auto& m = report["sources"]["a.csv"]["metrics"]["ttft_mean_ms"];
  EXPECT_EQ(m["interval_n"].get<int>(), 4);
  EXPECT_DOUBLE_EQ(m["interval_coverage"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(report["interval_level"].get<double>(), 0.8);
  const auto& iv = report["rows"][0]["interval"]["ttft_mean_ms"];
  EXPECT_LT(iv[0].get<double>(), 100);
  EXPECT_GT(iv[1].get<double>(), 100);
  EXPECT_TRUE(report["rows"][4].contains("interval"));
}

TEST(PredictionInterval, LeaveOneSourceOutExcludesTheRowsOwnSource) {
  // Source a.csv overpredicts by e^2 (7.4x); b and c are exact. A row of a.csv must get the band of b, c and d
  // only (narrow around 0); were a.csv's own residuals in its pool, the upper quantile would sit near 2.
  std::vector<Residual> res;
  add_source(res, "a.csv", 2.0);
  add_source(res, "b.csv", 0.0);
  add_source(res, "c.csv", 0.0);
  add_source(res, "d.csv", 0.0);  // a pool needs kMinPoolSources = 3 sources
  const IntervalModel model(res, 0.8, "test");
  const MetricBand own_left_out = model.band("ttft_mean_ms", regime(), {"a.csv", "a.csv"});
  const MetricBand all = model.band("ttft_mean_ms", regime(), {});
  ASSERT_TRUE(own_left_out.found);
  ASSERT_TRUE(all.found);
  EXPECT_EQ(own_left_out.sources, 3U);
  EXPECT_LE(own_left_out.hi_log, 0.1 + 1e-12);
  EXPECT_GT(all.hi_log, 1.0);
  // The same through validate's row annotation: a.csv's row is scored on b and c's band, so a measurement equal
  // to the prediction is inside and one 7.4x below it is not.
  nlohmann::json report = {{"sources", {{"a.csv", {{"metrics", {{"ttft_mean_ms", {{"n", 2}}}}}}}}},
                           {"rows", {row("a.csv", 0, 100, 100), row("a.csv", 1, 100, 100 / std::exp(2.0))}}};
  add_interval_columns(report, model);
  EXPECT_DOUBLE_EQ(report["sources"]["a.csv"]["metrics"]["ttft_mean_ms"]["interval_coverage"].get<double>(), 0.5);
  EXPECT_GT(report["rows"][1]["interval"]["ttft_mean_ms"][0].get<double>(), 100 / std::exp(2.0));
}

TEST(PredictionInterval, DatasetOfTheRowIsLeftOutToo) {
  // Two files of one dataset (trtllm_static.csv holds trtllm_perf_overview and trtllm_perf_md): a row of dataset
  // "x" leaves out every residual of "x", whatever file holds it.
  std::vector<Residual> res;
  add_source(res, "x1.csv", 2.0);
  for (auto& r : res) r.dataset = "x";
  add_source(res, "b.csv", 0.0);
  add_source(res, "c.csv", 0.0);
  add_source(res, "d.csv", 0.0);  // a pool needs kMinPoolSources = 3 sources
  const IntervalModel model(res, 0.8, "test");
  EXPECT_LE(model.band("ttft_mean_ms", regime(), {"x2.csv", "x"}).hi_log, 0.1 + 1e-12);
}

TEST(PredictionInterval, TooFewResidualsFallBackToACoarserPool) {
  // Only 3 residuals in the "saturated" load bin: the band comes from the family pool over all loads.
  std::vector<Residual> res;
  add_source(res, "b.csv", 0.0);
  add_source(res, "c.csv", 0.0);
  add_source(res, "d.csv", 0.0);  // a pool needs kMinPoolSources = 3 sources
  for (int i = 0; i < 3; ++i) res[static_cast<std::size_t>(i)].regime.load = "saturated";
  const IntervalModel model(res, 0.8, "test");
  StageRegime sat = regime();
  sat.load = "saturated";
  sat.queue_wait_share = 0.95;
  const MetricBand b = model.band("ttft_p99_ms", sat, {});
  ASSERT_TRUE(b.found);
  EXPECT_EQ(b.pool, "ttft");
  EXPECT_EQ(b.residuals, 30U);
  EXPECT_EQ(model.band("ttft_mean_ms", regime(), {}).pool, "ttft|light|graph|seen");
}

TEST(PredictionInterval, OutOfEvidenceForAnUnseenGpuAndEngine) {
  std::vector<Residual> res;
  add_source(res, "b.csv", 0.0);
  add_source(res, "c.csv", 0.0);
  add_source(res, "d.csv", 0.0);  // a pool needs kMinPoolSources = 3 sources
  const IntervalModel model(res, 0.8, "test");
  EXPECT_FALSE(model.check(regime(), {}).out_of_evidence);
  // A seen GPU with a new engine is partly seen, not out of evidence.
  EXPECT_FALSE(model.check(regime("H100-SXM", "sglang-0.4"), {}).out_of_evidence);
  const EvidenceCheck unseen = model.check(regime("MI300X", "sglang-0.4"), {});
  EXPECT_TRUE(unseen.out_of_evidence);
  EXPECT_NE(unseen.reason.find("GPU MI300X and engine preset sglang-0.4 appear in no validated source"),
            std::string::npos)
      << unseen.reason;
  StageRegime huge = regime();
  huge.model_params_b = 405;
  EXPECT_NE(model.check(huge, {}).reason.find("model size 405.0B outside the validated 7.0-7.0B"), std::string::npos);
  // The stage object carries the flag and the reason.
  const nlohmann::json iv = interval_json(model, regime("MI300X", "sglang-0.4"), {{"ttft_mean_ms", 50.0}}, nullptr);
  EXPECT_TRUE(iv["out_of_evidence"].get<bool>());
  EXPECT_TRUE(iv.contains("reason"));
  EXPECT_TRUE(iv["bounds"].contains("ttft_mean_ms"));
}

TEST(PredictionInterval, MalformedTableNamesFileLineAndField) {
  const auto path = std::filesystem::temp_directory_path() / "servetwin_bad_residuals.csv";
  {
    std::ofstream out(path);
    out << "file,dataset,source_id,metric,load,queue_wait_share,cuda_graphs,gpu,engine,model_params_b,log_ratio\n"
        << "a.csv,a,a:1,ttft_mean_ms,overloaded,0.1,true,H100-SXM,vllm-0.15,7,0.1\n";
  }
  try {
    (void)read_residual_csv(path);
    FAIL() << "a bad load bin was accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path.string() + ":2: field 'load' is 'overloaded'"), std::string::npos) << what;
    EXPECT_NE(what.find("batch, light, queued, saturated"), std::string::npos) << what;
  }
  std::filesystem::remove(path);
}

TEST(PredictionInterval, ShippedTableLoadsAndCoversEveryFamily) {
  const Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  const IntervalModel model = load_interval_model(catalog, kDefaultIntervalLevel);
  ASSERT_FALSE(model.residuals().empty());
  for (const char* metric : {"throughput_output_tok_s", "tpot_mean_ms", "e2e_mean_ms", "ttft_p99_ms"}) {
    EXPECT_TRUE(model.band(metric, regime(), {}).found) << metric;
  }
}

}  // namespace
}  // namespace servetwin
