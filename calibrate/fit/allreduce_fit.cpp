#include "calibrate/fit/allreduce_fit.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include "calibrate/fit/nelder_mead.hpp"

namespace servetwin::calibrate {

double AllReduceModel::predict_ns(double bytes) const {
  const double factor = 2.0 * (n - 1) / n;
  double t_ns = latency_ns + factor * bytes / bus_bw_bytes_s * 1e9;
  if (simple_bus_bw_bytes_s > 0) t_ns = std::min(t_ns, simple_latency_ns + factor * bytes / simple_bus_bw_bytes_s * 1e9);
  return std::max(floor_ns, t_ns);
}

ErrorStats allreduce_errors(const AllReduceModel& m, const std::vector<CollectivePoint>& points, double min_bytes,
                            double max_bytes) {
  std::vector<double> ape;
  for (const auto& p : points) {
    if (p.n != m.n || p.bytes < min_bytes || p.bytes > max_bytes || !(p.time_ns > 0)) continue;
    ape.push_back(std::abs(m.predict_ns(p.bytes) - p.time_ns) / p.time_ns);
  }
  ErrorStats e = summarize_errors(ape);
  e.m_min = min_bytes;
  e.m_max = max_bytes;
  return e;
}

namespace {

// (latency_ns, bus bytes/s) of the regime that the largest fitted sizes run in, or nullopt when it cannot
// be identified. Two facts about the data shape this:
//  - A sample is the transfer cost plus a wait that is never negative (ranks reach the kernel at
//    different times; Vidur's medians at <= 4 MB are often a 40 us mode sitting on a 10-30 us cost). Within
//    one regime the cost does not fall as bytes grow, so the suffix minimum over larger sizes (the lower
//    envelope) strips that wait.
//  - NCCL switches protocol (LL below roughly 0.4-1.2 MB on NVLink, LL128/Simple above) and the switch is
//    a step in time. Inside one alpha-beta regime time grows at most in proportion to bytes, so the step
//    is where the envelope grows fastest relative to bytes; the line is fitted only above it, so the LL
//    points do not flatten the slope.
// The fit is relative-error weighted least squares (rows scaled by 1/t) on the envelope.
std::optional<std::pair<double, double>> bandwidth_regime_line(std::vector<const CollectivePoint*> pts,
                                                               double factor) {
  std::sort(pts.begin(), pts.end(), [](const auto* a, const auto* b) {
    return a->bytes != b->bytes ? a->bytes < b->bytes : a->time_ns < b->time_ns;
  });
  std::vector<double> env(pts.size());
  double low = 1e300;
  for (std::size_t i = pts.size(); i-- > 0;) env[i] = low = std::min(low, pts[i]->time_ns);
  // Step size of each envelope point over its predecessor, beyond the growth in bytes. The last three
  // points are not candidates: the envelope cannot correct the top of the range (nothing larger to
  // compare with), and a "regime" of one or two points has no slope.
  std::vector<double> excess(pts.size(), 0.0);
  double steepest = 0;
  for (std::size_t i = 1; i + 3 <= pts.size(); ++i) {
    if (!(pts[i]->bytes > pts[i - 1]->bytes)) continue;
    excess[i] = std::log(env[i] / env[i - 1]) - std::log(pts[i]->bytes / pts[i - 1]->bytes);
    steepest = std::max(steepest, excess[i]);
  }
  // A switch can take a few neighbouring sizes (LL -> LL128 -> Simple); start above the last step that is
  // at least half the steepest, so the whole transition is excluded. No super-linear step: one regime.
  std::size_t start = 0;
  for (std::size_t i = 1; i < pts.size(); ++i)
    if (steepest > 0 && excess[i] >= steepest / 2) start = i;
  const auto rows = static_cast<Eigen::Index>(pts.size() - start);
  Eigen::MatrixXd a(rows, 2);
  Eigen::VectorXd b = Eigen::VectorXd::Ones(rows);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const std::size_t i = start + static_cast<std::size_t>(r);
    a(r, 0) = 1.0 / env[i];
    a(r, 1) = factor * pts[i]->bytes / env[i];
  }
  Eigen::Vector2d x = a.colPivHouseholderQr().solve(b);
  if (x(0) < 0) {  // NNLS on two unknowns: pin the latency at 0 and refit the slope
    x(0) = 0;
    x(1) = a.col(1).dot(b) / a.col(1).squaredNorm();
  }
  if (!(x(1) > 0)) return std::nullopt;  // flat: no bandwidth information in this range
  return std::pair{x(0), 1e9 / x(1)};
}

}  // namespace

std::map<int, AllReduceModel> fit_allreduce(const std::vector<CollectivePoint>& points, double min_bytes,
                                            double max_bytes, bool with_floor, bool switched_nvlink) {
  std::map<int, std::vector<const CollectivePoint*>> by_n;
  for (const auto& p : points)
    if (p.collective == "all_reduce" && p.n >= 2 && p.bytes >= min_bytes && p.bytes <= max_bytes && p.time_ns > 0)
      by_n[p.n].push_back(&p);
  std::map<int, AllReduceModel> out;
  for (const auto& entry : by_n) {
    // Named, not a structured binding: clang 14 (the sanitizer builds) cannot capture bindings.
    const int n = entry.first;
    const auto& pts = entry.second;
    if (pts.size() < 2) continue;
    const double factor = 2.0 * (n - 1) / n;
    const auto rows = static_cast<Eigen::Index>(pts.size());
    Eigen::MatrixXd a(rows, 2);
    Eigen::VectorXd b(rows);
    for (Eigen::Index i = 0; i < rows; ++i) {
      const auto& p = *pts[static_cast<std::size_t>(i)];
      // Row scaled by 1/t: minimises relative error, so the many small sizes do not swamp the fit.
      a(i, 0) = 1.0 / p.time_ns;
      a(i, 1) = factor * p.bytes / p.time_ns;
      b(i) = 1.0;
    }
    Eigen::Vector2d x = a.colPivHouseholderQr().solve(b);  // x = (latency_ns, ns per bus byte)
    if (x(0) < 0) {
      x(0) = 0;
      x(1) = a.col(1).dot(b) / a.col(1).squaredNorm();
    }
    if (x(1) <= 0) {  // pure latency: bandwidth not identifiable in this size range
      x(1) = 1e-12;
      x(0) = a.col(0).dot(b) / a.col(0).squaredNorm();
    }
    AllReduceModel m;
    m.n = n;
    m.latency_ns = x(0);
    m.bus_bw_bytes_s = 1e9 / x(1);
    // Refine on squared log error, in log space (keeps every term positive).
    auto model_of = [&](const std::vector<double>& v) {
      AllReduceModel t = m;
      t.latency_ns = std::exp(v[0]);
      t.bus_bw_bytes_s = std::exp(v[1]);
      t.floor_ns = with_floor ? std::exp(v[2]) : 0.0;
      return t;
    };
    auto loss = [&](const std::vector<double>& v) {
      const AllReduceModel t = model_of(v);
      double s = 0;
      for (const auto* p : pts) {
        const double r = std::log(t.predict_ns(p->bytes) / p->time_ns);
        s += r * r;
      }
      return s;
    };
    double t_min = 1e300;
    for (const auto* p : pts) t_min = std::min(t_min, p->time_ns);
    // Starts: the weighted-LS line, and a generic (10 us, 100 GB/s) line; floors at the fastest
    // and a typical sample. The loss is piecewise, so keep the best of the runs.
    std::vector<double> times;
    times.reserve(pts.size());
    for (const auto* p : pts) times.push_back(p->time_ns);
    std::sort(times.begin(), times.end());
    const double t_typ = times[times.size() / 2];
    MinimizeResult best;
    best.value = 1e300;
    for (const auto& [lat0, bw0] : {std::pair{std::max(m.latency_ns, 100.0), m.bus_bw_bytes_s}, std::pair{1e4, 1e11}}) {
      for (double floor0 : {t_min, t_typ}) {
        std::vector<double> v0{std::log(lat0), std::log(bw0)};
        if (with_floor) v0.push_back(std::log(floor0));
        auto r = nelder_mead(loss, v0, 0.5);
        r = nelder_mead(loss, r.x, 0.05);
        if (r.value < best.value) best = r;
      }
    }
    m = model_of(best.x);
    // The floor stays from the fit above (it describes small messages); the line is refitted on the
    // bandwidth regime, which is what extrapolates to larger sizes.
    if (const auto line = bandwidth_regime_line(pts, factor)) {
      m.latency_ns = line->first;
      m.bus_bw_bytes_s = line->second;
    }
    m.min_bytes = 1e300;
    for (const auto* p : pts) {
      m.min_bytes = std::min(m.min_bytes, p->bytes);
      m.max_bytes = std::max(m.max_bytes, p->bytes);
    }
    out[n] = m;
  }
  // Simple-protocol line for n > 2 on a switched NVLink fabric (see the header): bandwidth from the
  // 2-rank line, latency the least one that keeps it at or above the fitted line over the fitted sizes.
  // The Simple line is faster only where its bandwidth is higher, and then its advantage grows with the
  // size, so the binding size is the largest fitted one.
  const auto two = out.find(2);
  if (switched_nvlink && two != out.end())
    for (auto& [n, m] : out) {
      if (n <= 2 || !(two->second.bus_bw_bytes_s > m.bus_bw_bytes_s)) continue;
      const double bus_bytes = 2.0 * (n - 1) / n * m.max_bytes;
      m.simple_bus_bw_bytes_s = two->second.bus_bw_bytes_s;
      m.simple_latency_ns = m.latency_ns + bus_bytes * (1.0 / m.bus_bw_bytes_s - 1.0 / m.simple_bus_bw_bytes_s) * 1e9;
    }
  for (auto& [n, m] : out) m.in_sample = allreduce_errors(m, points, m.min_bytes, m.max_bytes);
  return out;
}

}  // namespace servetwin::calibrate
