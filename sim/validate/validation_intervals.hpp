#pragma once
// Prediction intervals in `servetwin validate --data`: the residual table from a report (what
// `--write-intervals` writes), and every row's interval drawn leave-one-source-out, with each source's interval
// coverage (share of measured values inside the interval) per metric.
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/interval/interval_model.hpp"

namespace servetwin {

// ln(predicted / measured) of every scored row's compared metric that has a family (residual_table.hpp), in
// report order. Fit rows are left out: their errors were fitted away.
std::vector<Residual> residuals_from_report(const nlohmann::json& report);

// Adds to every row that ran "interval" {metric: [lo, hi]}, "out_of_evidence" (+ "out_of_evidence_reason") and
// "interval_pools", each drawn without the residuals of the row's own source (file and dataset); to every
// source's metric "interval_n" and "interval_coverage" (scored rows only); to the report "interval_level" and
// "interval_table".
void add_interval_columns(nlohmann::json& report, const IntervalModel& model);

}  // namespace servetwin
