#include "calibrate/fit/gemm_fit.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "calibrate/core/stats.hpp"
#include "calibrate/fit/nelder_mead.hpp"

namespace servetwin::calibrate {

double GemmModel::eff_for(const std::string& op) const {
  const auto it = op_eff_max.find(op);
  return it == op_eff_max.end() ? eff_max : it->second;
}

double GemmModel::predict_ns(double m, double n, double k, double peak_flops, double mem_bw_bytes_s,
                             const std::string& op) const {
  const double eff = eff_for(op) * m / (m + m_half_tokens);
  const double compute_s = 2.0 * m * n * k / (peak_flops * eff);
  const double bytes = elem_bytes * (k * n + (activation_bytes ? m * k + m * n : 0.0));
  const double memory_s = bytes / (mem_bw_bytes_s * bw_eff);
  return latency_ns + std::max(compute_s, memory_s) * 1e9;
}

double GemmModel::predict_ns(const GemmPoint& p, double peak_flops, double mem_bw_bytes_s) const {
  return predict_ns(p.m, p.n, p.k, peak_flops, mem_bw_bytes_s, p.op);
}

ErrorStats summarize_errors(std::vector<double> ape) {
  ErrorStats e;
  e.n = ape.size();
  if (ape.empty()) return e;
  std::sort(ape.begin(), ape.end());
  e.median_ape = percentile_sorted(ape, 0.5);
  e.p90_ape = percentile_sorted(ape, 0.9);
  e.max_ape = ape.back();
  return e;
}

ErrorStats gemm_errors(const GemmModel& model, const std::vector<GemmPoint>& points, double peak_flops,
                       double mem_bw_bytes_s) {
  std::vector<double> ape;
  double sum_log = 0, m_min = 1e300, m_max = 0;
  for (const auto& p : points) {
    const double pred = model.predict_ns(p, peak_flops, mem_bw_bytes_s);
    ape.push_back(std::abs(pred - p.time_ns) / p.time_ns);
    sum_log += std::log(pred / p.time_ns);
    m_min = std::min(m_min, p.m);
    m_max = std::max(m_max, p.m);
  }
  ErrorStats e = summarize_errors(ape);
  e.mean_log_error = points.empty() ? 0 : sum_log / static_cast<double>(points.size());
  e.m_min = points.empty() ? 0 : m_min;
  e.m_max = m_max;
  return e;
}

GemmFit fit_gemm(const std::vector<GemmPoint>& points, double peak_flops, double mem_bw_bytes_s,
                 const GemmFitOptions& options) {
  if (points.size() < 3) throw std::invalid_argument("GEMM fit needs at least 3 points");
  if (!(peak_flops > 0) || !(mem_bw_bytes_s > 0)) throw std::invalid_argument("GEMM fit needs peak FLOP/s and bandwidth");
  std::vector<std::string> ops;
  if (options.per_op_eff) {
    for (const auto& p : points)
      if (std::find(ops.begin(), ops.end(), p.op) == ops.end()) ops.push_back(p.op);
    std::sort(ops.begin(), ops.end());
  }
  // Parameter vector in log space (keeps every parameter positive without constraints):
  // [eff_max, bw_eff, (m_half), (latency_ns), per-op eff...]
  auto to_model = [&](const std::vector<double>& x) {
    GemmModel g;
    g.eff_max = std::exp(x[0]);
    g.bw_eff = std::exp(x[1]);
    std::size_t i = 2;
    g.m_half_tokens = options.fit_m_half ? std::exp(x[i++]) : 0.0;
    g.latency_ns = options.fit_latency ? std::exp(x[i++]) : 0.0;
    g.activation_bytes = options.activation_bytes;
    g.elem_bytes = options.elem_bytes;
    for (const auto& op : ops) g.op_eff_max[op] = std::exp(x[i++]);
    return g;
  };
  auto loss = [&](const std::vector<double>& x) {
    const GemmModel g = to_model(x);
    double s = 0;
    for (const auto& p : points) {
      const double r = std::log(g.predict_ns(p, peak_flops, mem_bw_bytes_s) / p.time_ns);
      s += r * r;
    }
    return s;
  };
  // Several starts: the loss has flat directions (m_half where the bandwidth floor dominates,
  // bw_eff where the compute branch dominates), so one start can stall in a poor basin.
  MinimizeResult best;
  best.value = 1e300;
  for (double mh : {8.0, 128.0, 1024.0}) {
    for (double lat : {1000.0, 8000.0}) {
      if (!options.fit_m_half && mh != 8.0) continue;
      if (!options.fit_latency && lat != 1000.0) continue;
      std::vector<double> x0{std::log(0.7), std::log(0.8)};
      if (options.fit_m_half) x0.push_back(std::log(mh));
      if (options.fit_latency) x0.push_back(std::log(lat));
      for (std::size_t i = 0; i < ops.size(); ++i) x0.push_back(std::log(0.7));
      auto r = nelder_mead(loss, x0, 0.5);
      r = nelder_mead(loss, r.x, 0.05);  // restart with a small simplex to polish
      if (r.value < best.value) best = r;
    }
  }
  GemmFit fit;
  fit.model = to_model(best.x);
  fit.options = options;
  fit.in_sample = gemm_errors(fit.model, points, peak_flops, mem_bw_bytes_s);
  return fit;
}

}  // namespace servetwin::calibrate
