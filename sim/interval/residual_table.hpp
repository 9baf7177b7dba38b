#pragma once
// The residual table prediction intervals are drawn from: one line per (validated row, metric) with the row's
// regime and log(predicted / measured). It is data shipped in configs/validation/interval_residuals.csv,
// written by `servetwin validate --data ... --write-intervals FILE` (scripts/update-intervals.sh), so the
// product never reads the published CSVs at run time.
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "sim/interval/stage_regime.hpp"

namespace servetwin {

struct Residual {
  std::string file;       // validation CSV the row came from (the "source" left out in leave-one-source-out)
  std::string dataset;    // source_id up to the first ':' (README of the published data)
  std::string source_id;
  std::string metric;     // CSV column, e.g. ttft_p90_ms
  StageRegime regime;
  double log_ratio = 0;   // ln(predicted / measured)
};

// Metric family an interval is pooled by: "throughput", "tpot" (TPOT, ITL, latency per token), "e2e", "ttft";
// "" for a column that gets no residual of its own (usd_per_1m_tokens is throughput priced, and its residual
// would count the throughput error twice).
std::string metric_family(const std::string& metric);

// Every column the product puts an interval on: metric_family is not empty.
bool has_interval(const std::string& metric);

// Writes the table (header + one line per residual, numbers to 6 significant digits).
void write_residual_csv(std::ostream& os, const std::vector<Residual>& residuals);

// Reads a table; throws ConfigError naming the file, line and field for a malformed one.
std::vector<Residual> read_residual_csv(const std::filesystem::path& path);

}  // namespace servetwin
