#include "sim/interval/interval_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <functional>

#include "sim/catalog/catalog.hpp"
#include "sim/core/path_check.hpp"

namespace servetwin {
namespace {

const char* novelty(bool gpu_seen, bool engine_seen) {
  if (gpu_seen && engine_seen) return "seen";
  return gpu_seen || engine_seen ? "partly seen" : "unseen";
}

bool is_cost_column(const std::string& metric) { return metric.rfind("usd_per_1m", 0) == 0; }

// The residuals of one pool as a band symmetric in ln(pred / meas): +-(the weighted split-conformal quantile of
// |bias of source t + deviation of a residual of source s from its source's mean|, over every pair t, s). Each
// source's residuals weigh the same in total, and so does each source's bias (interval_model.hpp: why the bias
// and the spread are recombined).
MetricBand pool_band(const std::vector<const Residual*>& pool, double level, std::string name) {
  MetricBand b;
  b.pool = std::move(name);
  std::map<std::string, std::pair<double, std::size_t>> sum_count;  // per source: sum of ln ratios, residuals
  for (const Residual* r : pool) {
    auto& [sum, count] = sum_count[r->file];
    sum += r->log_ratio;
    ++count;
  }
  b.residuals = pool.size();
  b.sources = sum_count.size();
  if (b.residuals < kMinPoolResiduals || b.sources < kMinPoolSources) return b;
  std::map<std::string, double> bias;
  double inverse_counts = 0;  // sum over sources of 1/count = sum of the squared per-residual weights
  for (const auto& [file, sc] : sum_count) {
    bias[file] = sc.first / static_cast<double>(sc.second);
    inverse_counts += 1.0 / static_cast<double>(sc.second);
  }
  const auto k = static_cast<double>(b.sources);
  std::vector<std::pair<double, double>> scores;
  scores.reserve(pool.size() * b.sources);
  for (const Residual* r : pool) {
    const double deviation = r->log_ratio - bias[r->file];
    const double weight = 1.0 / (static_cast<double>(sum_count[r->file].second) * k);
    for (const auto& [file, source_bias] : bias) scores.emplace_back(std::abs(source_bias + deviation), weight);
  }
  // The rank is that of the residuals themselves (each weighing 1/its source's count), not of the k x n pairs:
  // recombining invents no new evidence. n_eff = (sum w)^2 / sum w^2 = k^2 / sum(1/count).
  const double bound = conformal_quantile(scores, level, k * k / inverse_counts);
  b.lo_log = -bound;
  b.hi_log = bound;
  b.found = true;
  return b;
}

}  // namespace

std::pair<double, double> MetricBand::bounds(double predicted) const {
  // ln(pred/meas) in [lo, hi]  <=>  meas in [pred e^-hi, pred e^-lo]; a cost column's error is the inverse.
  if (inverted) return {predicted * std::exp(lo_log), predicted * std::exp(hi_log)};
  return {predicted * std::exp(-hi_log), predicted * std::exp(-lo_log)};
}

double conformal_quantile(std::vector<std::pair<double, double>> scores_weights, double level) {
  if (scores_weights.empty()) throw std::invalid_argument("conformal_quantile of nothing");
  double total = 0, total_sq = 0;
  for (const auto& [v, w] : scores_weights) {
    total += w;
    total_sq += w * w;
  }
  return conformal_quantile(std::move(scores_weights), level, total * total / total_sq);  // Kish: n if weights equal
}

double conformal_quantile(std::vector<std::pair<double, double>> scores_weights, double level, double n_eff) {
  if (scores_weights.empty()) throw std::invalid_argument("conformal_quantile of nothing");
  std::sort(scores_weights.begin(), scores_weights.end());
  double total = 0;
  for (const auto& [v, w] : scores_weights) total += w;
  // Split conformal: the ceil((n + 1) level)-th smallest of n scores, i.e. cumulative share (1 + 1/n) level. Past
  // 1 the finite bound does not exist at this level; the largest score is the closest one there is.
  const double share = std::min(1.0, level * (1.0 + 1.0 / n_eff));
  const double needed = share * total * (1.0 - 1e-12);  // the rank itself must count despite rounding
  double cumulative = 0;
  for (const auto& [v, w] : scores_weights) {
    cumulative += w;
    if (cumulative >= needed) return v;
  }
  return scores_weights.back().first;
}

IntervalModel::IntervalModel(std::vector<Residual> residuals, double level, std::string origin)
    : residuals_(std::move(residuals)), level_(level), origin_(std::move(origin)) {
  // A residual's novelty is what it was when its source was held out: its GPU and engine among the others.
  for (const auto& r : residuals_) {
    const EvidenceExclusion own{r.file, r.dataset};
    bool gpu = false, engine = false;
    for (const auto& o : residuals_) {
      if (excluded(o, own)) continue;
      gpu = gpu || o.regime.gpu == r.regime.gpu;
      engine = engine || o.regime.engine == r.regime.engine;
    }
    novelty_.emplace_back(novelty(gpu, engine));
  }
}

bool IntervalModel::excluded(const Residual& r, const EvidenceExclusion& ex) const {
  return (!ex.file.empty() && r.file == ex.file) || (!ex.dataset.empty() && r.dataset == ex.dataset);
}

MetricBand IntervalModel::band(const std::string& metric, const StageRegime& regime, const EvidenceExclusion& ex) const {
  const bool cost = is_cost_column(metric);
  const std::string family = cost ? "throughput" : metric_family(metric);
  if (family.empty()) return {};
  const EvidenceCheck seen = check(regime, ex);
  const std::string exec = regime.cuda_graphs ? "graph" : "eager";
  const std::string nov = novelty(seen.gpu_seen, seen.engine_seen);
  // Pool predicates, most specific first (header comment of interval_model.hpp).
  const std::vector<std::pair<std::string, std::function<bool(std::size_t)>>> pools = {
      {family + "|" + regime.load + "|" + exec + "|" + nov,
       [&](std::size_t i) { return residuals_[i].regime.load == regime.load &&
                                   residuals_[i].regime.cuda_graphs == regime.cuda_graphs && novelty_[i] == nov; }},
      {family + "|" + regime.load + "|" + exec,
       [&](std::size_t i) { return residuals_[i].regime.load == regime.load &&
                                   residuals_[i].regime.cuda_graphs == regime.cuda_graphs; }},
      {family + "|" + regime.load, [&](std::size_t i) { return residuals_[i].regime.load == regime.load; }},
      {family, [](std::size_t) { return true; }},
  };
  for (const auto& [name, in_pool] : pools) {
    std::vector<const Residual*> pool;
    for (std::size_t i = 0; i < residuals_.size(); ++i) {
      if (!excluded(residuals_[i], ex) && metric_family(residuals_[i].metric) == family && in_pool(i)) {
        pool.push_back(&residuals_[i]);
      }
    }
    MetricBand b = pool_band(pool, level_, name);
    if (b.found) {
      b.inverted = cost;
      return b;
    }
  }
  std::vector<const Residual*> all;
  for (const auto& r : residuals_) {
    if (!excluded(r, ex)) all.push_back(&r);
  }
  MetricBand b = pool_band(all, level_, "all metrics");
  b.inverted = cost;
  return b;
}

EvidenceCheck IntervalModel::check(const StageRegime& regime, const EvidenceExclusion& ex) const {
  EvidenceCheck c;
  double min_b = 0, max_b = 0, max_share = 0;
  bool any = false, load_seen = false;
  for (const auto& r : residuals_) {
    if (excluded(r, ex)) continue;
    c.gpu_seen = c.gpu_seen || r.regime.gpu == regime.gpu;
    c.engine_seen = c.engine_seen || r.regime.engine == regime.engine;
    if (r.regime.load == regime.load) {
      load_seen = true;
      max_share = std::max(max_share, r.regime.queue_wait_share);
    }
    min_b = any ? std::min(min_b, r.regime.model_params_b) : r.regime.model_params_b;
    max_b = any ? std::max(max_b, r.regime.model_params_b) : r.regime.model_params_b;
    any = true;
  }
  std::vector<std::string> why;
  if (!any) {
    why.emplace_back("no validated residuals to draw an interval from (configs/validation/interval_residuals.csv)");
  } else {
    if (!c.gpu_seen && !c.engine_seen) {
      why.push_back(fmt::format("GPU {} and engine preset {} appear in no validated source", regime.gpu, regime.engine));
    }
    // 1% slack: parameter counts are rounded to 6 digits in the table.
    if (regime.model_params_b < min_b * 0.99 || regime.model_params_b > max_b * 1.01) {
      why.push_back(fmt::format("model size {:.1f}B outside the validated {:.1f}-{:.1f}B", regime.model_params_b, min_b, max_b));
    }
    if (!load_seen) {
      why.push_back(fmt::format("no validated row in the '{}' load regime ({:.0f}% of TTFT queueing)", regime.load,
                                100 * regime.queue_wait_share));
    } else if (regime.load == "saturated" && regime.queue_wait_share > max_share) {
      why.push_back(fmt::format("load far past the knee: {:.1f}% of TTFT is queueing, validated rows reach {:.1f}%",
                                100 * regime.queue_wait_share, 100 * max_share));
    }
  }
  c.out_of_evidence = !why.empty();
  for (std::size_t i = 0; i < why.size(); ++i) c.reason += (i ? "; " : "") + why[i];
  return c;
}

IntervalModel load_interval_model(const Catalog& catalog, double level) {
  const auto path = catalog.dir() / "validation" / "interval_residuals.csv";
  if (!check_path(path).exists) return IntervalModel({}, level, "none");
  return IntervalModel(read_residual_csv(path), level, "validation/interval_residuals.csv of the catalog");
}

double checked_interval_level(double level) {
  if (!(level > 0 && level < 1)) {
    throw ConfigError(fmt::format("--interval-level is {}: allowed is a fraction strictly between 0 and 1 (e.g. 0.8)", level));
  }
  return level;
}

}  // namespace servetwin
