#pragma once
// The workload and arrival flags `predict` and `load` share, registered and read by one piece of
// code so that both verbs accept the same forms and reject bad values with the same errors:
// --workload --dataset --input-tokens --output-tokens --concurrency --rate --arrival
// --max-in-flight --seed (docs/live.md, "Workloads and arrivals").
#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/catalog/specs.hpp"

namespace servetwin::cli {

// Unset flags stay empty / std::nullopt (a scenario file or the verb's default applies).
struct WorkloadOptions {
  std::string workload, dataset;
  std::string input_tokens, output_tokens;  // length distributions as typed (parse_length_dist)
  std::optional<std::string> arrival;
  std::vector<double> concurrency, rate;
  std::optional<std::int64_t> max_in_flight;
  std::optional<std::uint64_t> seed;
};

void add_workload_options(CLI::App& cmd, WorkloadOptions& o);

// --input-tokens and --output-tokens as distributions; nullopt when neither is given. Throws
// ConfigError naming the flag and the allowed forms, or when only one of the two, or one of them
// with --dataset or --workload, is given.
std::optional<std::pair<LengthDist, LengthDist>> synthetic_lengths(const WorkloadOptions& o);

}  // namespace servetwin::cli
