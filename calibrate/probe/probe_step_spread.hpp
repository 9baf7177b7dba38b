#pragma once
// The step-to-step spread of the probed server's step time (sim/engine/step_time_spread.hpp), from the
// probe's lone requests: every phase run at concurrency 1 (decode, decode-context, reference) streamed one
// request at a time, so each gap between two token messages that carry one token each is one engine step.
// Each gap is divided by its request's mean single-token gap (the speed of that moment: the server drifts
// over minutes, docs/real-engines.md); the share of their spread that is message delivery, not steps, is
// taken out (probe_step_spread.cpp), and the pooled ratios give kStepSpreadQuantiles evenly spaced
// quantiles, written into the fitted preset as `step_time_ratios`. Reads <phase dir>/messages.csv (the
// load runner's token messages, written beside the probe; calibrate/engine/engine_fit.hpp read_message_log): a
// probe whose phase directories are gone, or whose files do not parse, fits without a spread, and the fit says so.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace servetwin::calibrate {

constexpr int kStepSpreadQuantiles = 50;  // midpoints (i + 0.5) / 50: the top one is the 99th percentile
constexpr int kStepSpreadMinGaps = 200;   // fewer single-token gaps than this: no spread (too few for p99)

struct StepSpreadFit {
  std::vector<double> ratios;  // the quantiles, ascending; empty when not fitted
  int gaps = 0, requests = 0;
  double lag1_correlation = 0;  // of consecutive gaps within a request (pooled)
  double delivery_shrink = 1;   // sqrt(1 + 2 lag1_correlation) when that is negative, else 1
  std::string note;  // why not fitted, "" when fitted
};

StepSpreadFit fit_step_spread(const nlohmann::json& phases);

}  // namespace servetwin::calibrate
