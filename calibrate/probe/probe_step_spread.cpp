#include "calibrate/probe/probe_step_spread.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "calibrate/engine/engine_fit.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/core/path_check.hpp"

namespace servetwin::calibrate {
namespace {

constexpr double kCoalescedShare = 0.05;  // a gap under 5 % of its request's mean is a delivery, not a step

double mean_of(const std::vector<double>& v) {
  double sum = 0;
  for (const double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

// Two token messages that reach the client together (a front end that batches its stream: Caikit's gRPC
// showed 2.4 % of gaps under 5 % of the mean, each after a gap about twice the mean) are two steps delivered
// as one: no step is that short, and the gap before it holds two steps. Both are marked NaN (dropped: one
// step's time is not in them). Returns the mean of the gaps kept.
double drop_coalesced(std::vector<double>& gaps) {
  const double floor = kCoalescedShare * mean_of(gaps);
  for (std::size_t i = 0; i < gaps.size(); ++i) {
    if (gaps[i] >= floor) continue;
    gaps[i] = std::nan("");
    if (i > 0) gaps[i - 1] = std::nan("");
  }
  double sum = 0;
  int kept = 0;
  for (const double g : gaps) {
    if (std::isnan(g)) continue;
    sum += g;
    ++kept;
  }
  return kept > 0 ? sum / kept : 0;
}

}  // namespace

StepSpreadFit fit_step_spread(const nlohmann::json& phases) {
  StepSpreadFit f;
  std::vector<double> ratios;
  double sum_sq = 0, sum_lag1 = 0;  // of (ratio - 1), and of consecutive products within a request
  int unreadable = 0;
  for (const auto& p : phases) {
    const std::string phase = p.value("phase", "");
    if (p.value("concurrency", 0) != 1 || (phase != "decode" && phase != "decode-context" && phase != "reference")) continue;
    const std::filesystem::path file = std::filesystem::path(p.value("dir", "")) / "messages.csv";
    MessageLog messages;
    try {
      if (check_path(file).exists) messages = read_message_log(file);
    } catch (const ConfigError&) {
      messages.clear();  // counted below as unreadable; the fit goes on without the spread
    }
    if (messages.empty()) {
      ++unreadable;
      continue;
    }
    for (const auto& [id, stream] : messages) {
      std::vector<double> gaps;
      const StreamMessage* prev = nullptr;
      for (const StreamMessage& m : stream) {
        // One token since the previous token message: one engine step (the first token's message has no
        // predecessor with a token, so the prefill is never counted).
        if (prev != nullptr && prev->generated > 0 && m.generated - prev->generated == 1 && m.t_ns > prev->t_ns)
          gaps.push_back(static_cast<double>(m.t_ns - prev->t_ns));
        prev = &m;
      }
      if (gaps.size() < 8) continue;  // a request's mean needs a few steps
      const double mean = drop_coalesced(gaps);
      if (mean <= 0) continue;
      for (std::size_t i = 0; i < gaps.size(); ++i) {
        if (std::isnan(gaps[i])) continue;
        const double deviation = gaps[i] / mean - 1;
        ratios.push_back(gaps[i] / mean);
        sum_sq += deviation * deviation;
        if (i > 0 && !std::isnan(gaps[i - 1])) sum_lag1 += deviation * (gaps[i - 1] / mean - 1);
      }
      ++f.requests;
    }
  }
  f.gaps = static_cast<int>(ratios.size());
  // A token message that reaches the client late lengthens its gap and shortens the next by as much
  // (observed gap = step + d[i+1] - d[i], d the delivery delay): the gaps' variance holds 2 Var(d) that no
  // step has, and their lag-1 autocovariance is -Var(d). With a negative lag-1 correlation rho the step
  // ratios are shrunk towards 1 by sqrt(1 + 2 rho), which takes that share out; a positive one (slow spells
  // spanning steps) is step time and stays.
  f.lag1_correlation = sum_sq > 0 ? sum_lag1 / sum_sq : 0;
  f.delivery_shrink = f.lag1_correlation < 0 ? std::sqrt(std::max(0.0, 1 + 2 * f.lag1_correlation)) : 1.0;
  for (double& r : ratios) r = 1 + f.delivery_shrink * (r - 1);
  if (f.gaps < kStepSpreadMinGaps) {
    f.note = fmt::format("no step-time spread: {} single-token gaps of lone requests (needs {}){}", f.gaps, kStepSpreadMinGaps,
                         unreadable > 0 ? fmt::format("; {} lone phases without a readable messages.csv", unreadable) : "");
    return f;
  }
  std::sort(ratios.begin(), ratios.end());
  for (int i = 0; i < kStepSpreadQuantiles; ++i) {
    const double q = (i + 0.5) / kStepSpreadQuantiles;
    f.ratios.push_back(ratios[static_cast<std::size_t>(std::lround(q * static_cast<double>(ratios.size() - 1)))]);
  }
  return f;
}

}  // namespace servetwin::calibrate
