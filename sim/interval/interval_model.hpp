#pragma once
// Prediction intervals from the residual table (residual_table.hpp): for a metric predicted in a regime, a band
// +-q on ln(predicted / measured), q the split-conformal quantile of |ln(predicted / measured)| over the validated
// residuals of the most specific regime pool that holds enough of them, turned into bounds on the measured value.
// Pools, most specific first (the first with at least kMinPoolResiduals residuals from at least kMinPoolSources
// sources wins):
//   1. metric family + load bin + eager/graph + novelty (GPU and engine preset seen in other sources or not)
//   2. metric family + load bin + eager/graph
//   3. metric family + load bin
//   4. metric family
//   5. every residual (all families)
// Each source weighs the same in a pool (every residual of a source weighs 1/its count there): a held-out source
// is one more source, and the largest visible one must not set the width alone.
// A residual is read as its source's bias (the source's mean ln ratio) plus a deviation from it, and a new source
// as any visible source's bias with any visible source's deviations: the scores are |bias_t + deviation of a
// residual of s| over every pair of sources t, s. Why: a source's bias and its spread are separate facts about
// it (TRT-LLM's throughput: mean +0.14, sd 0.36; DistServe's online throughput: mean -0.01, sd 0.01, because
// under online load throughput follows the offered rate), and a new source can bring one source's bias with
// another's spread. Scoring the residuals as they are paired let the narrowest source hold a third of the weight
// at its own small errors: public TensorRT-LLM rows outside ../shared fell inside the 80% band 58% of the time
// (docs/out_of_sample.md). The rank stays that of the residuals (n_eff below), so nothing is counted twice.
// Why symmetric and conformal (leave-one-source-out coverage on the visible sources was 69.9% with the signed,
// interpolated 10%/90% quantiles): the sign of a source's bias does not carry over to another source (visible
// TTFT biases run from -30% to +418% by source), so the score is the error's size, not its direction; and the
// plain empirical quantile of n scores (the ceil(n level)-th smallest) covers a new exchangeable score with
// probability ceil(n level) / (n + 1) < level, the ceil((n + 1) level)-th smallest with at least level
// (conformal_quantile).
// Leave-one-source-out: an EvidenceExclusion drops the residuals of the scored row's own source (file or
// dataset), so validate's interval coverage is measured on intervals that never saw the row's source.
#include <string>
#include <utility>
#include <vector>

#include "sim/interval/residual_table.hpp"

namespace servetwin {

class Catalog;

constexpr double kDefaultIntervalLevel = 0.8;
constexpr std::size_t kMinPoolResiduals = 12;  // two tails of 10% need a few residuals each
constexpr std::size_t kMinPoolSources = 3;  // between-source spread needs more than one pair of sources

struct EvidenceExclusion {
  std::string file;     // residuals from this validation file are not evidence ("" = none excluded)
  std::string dataset;  // nor residuals of this dataset (source_id prefix)
};

struct MetricBand {
  bool found = false;
  double lo_log = 0, hi_log = 0;  // band on ln(predicted / measured): -q and +q
  std::string pool;               // which pool, e.g. "ttft|saturated|graph|seen"
  std::size_t residuals = 0, sources = 0;
  bool inverted = false;          // a cost column: priced throughput, so its error is the throughput's inverse
  // Bounds on the measured value when `predicted` is predicted.
  [[nodiscard]] std::pair<double, double> bounds(double predicted) const;
};

struct EvidenceCheck {
  bool gpu_seen = false, engine_seen = false;
  bool out_of_evidence = false;
  std::string reason;  // one line, "" when in evidence
};

class IntervalModel {
 public:
  IntervalModel() = default;  // no table: no bands, every check out of evidence
  IntervalModel(std::vector<Residual> residuals, double level, std::string origin);

  [[nodiscard]] double level() const { return level_; }
  [[nodiscard]] const std::string& origin() const { return origin_; }
  [[nodiscard]] const std::vector<Residual>& residuals() const { return residuals_; }

  [[nodiscard]] MetricBand band(const std::string& metric, const StageRegime& regime, const EvidenceExclusion& ex) const;
  [[nodiscard]] EvidenceCheck check(const StageRegime& regime, const EvidenceExclusion& ex) const;

 private:
  [[nodiscard]] bool excluded(const Residual& r, const EvidenceExclusion& ex) const;
  std::vector<Residual> residuals_;
  std::vector<std::string> novelty_;  // per residual: its GPU/engine seen in the other sources or not
  double level_ = kDefaultIntervalLevel;
  std::string origin_ = "none";
};

// The shipped table, <catalog>/validation/interval_residuals.csv; an empty model when the catalog has none.
IntervalModel load_interval_model(const Catalog& catalog, double level);

// Checks --interval-level: a fraction strictly between 0 and 1 (ConfigError naming the flag otherwise).
double checked_interval_level(double level);

// The weighted split-conformal quantile of (score, weight) pairs at `level`: the smallest score whose cumulative
// weight reaches level x (1 + 1/n_eff) of the total, n_eff = (sum w)^2 / sum w^2 (Kish's effective sample size). With
// equal weights that is the ceil((n + 1) level)-th smallest of n scores, the rank for which a new exchangeable score
// falls at or below it with probability >= level (split conformal prediction); no interpolation between scores.
// Capped at the largest score when level x (1 + 1/n_eff) > 1. Exposed for tests.
double conformal_quantile(std::vector<std::pair<double, double>> scores_weights, double level);
// The same with the effective sample size given: for scores that recombine n residuals (pool_band), the rank must be
// that of the n residuals, not of the recombinations.
double conformal_quantile(std::vector<std::pair<double, double>> scores_weights, double level, double n_eff);

}  // namespace servetwin
