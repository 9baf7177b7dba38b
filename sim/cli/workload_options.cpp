#include "sim/cli/workload_options.hpp"

#include <fmt/format.h>

#include "sim/catalog/catalog.hpp"
#include "sim/cli/numeric_flags.hpp"
#include "sim/workload/length_dist.hpp"

namespace servetwin::cli {

void add_workload_options(CLI::App& cmd, WorkloadOptions& o) {
  cmd.add_option("--workload", o.workload, "Catalog workload (servetwin list workloads)");
  cmd.add_option("--dataset", o.dataset, "llm-load-test v1 JSON or v2 JSONL dataset file");
  const std::string forms = kLengthDistForms;
  cmd.add_option("--input-tokens", o.input_tokens, "Synthetic prompt lengths in tokens: " + forms);
  cmd.add_option("--output-tokens", o.output_tokens, "Synthetic output lengths in tokens: " + forms);
  add_number_list_flag(cmd, "--concurrency", o.concurrency, limits::kConcurrency,
                       "Closed-loop users per stage, e.g. 1,2,4");
  add_number_list_flag(cmd, "--rate", o.rate, limits::kRatePerS, "Open-loop requests/s per stage, e.g. 1,2.5");
  cmd.add_option("--arrival", o.arrival, "Open-loop arrivals: poisson (default), constant, gamma:CV; predict with --concurrency N also: waves "
                 "(N requests at once, the next N after the slowest ends)");
  add_integer_flag(cmd, "--max-in-flight", o.max_in_flight, limits::kMaxInFlight,
                   "Open loop: client-side cap on requests in flight (arrivals wait)");
  add_seed_flag(cmd, "--seed", o.seed, "Seed for every random stream: request order, lengths, arrivals (default 42)");
}

std::optional<std::pair<LengthDist, LengthDist>> synthetic_lengths(const WorkloadOptions& o) {
  if (o.input_tokens.empty() && o.output_tokens.empty()) return std::nullopt;
  if (o.input_tokens.empty() || o.output_tokens.empty()) {
    throw ConfigError(fmt::format("give both --input-tokens and --output-tokens (each: {})", kLengthDistForms));
  }
  if (!o.dataset.empty() || !o.workload.empty()) {
    throw ConfigError("give --input-tokens/--output-tokens, --dataset or --workload, not several");
  }
  std::pair<LengthDist, LengthDist> d{parse_length_dist(o.input_tokens, "--input-tokens"),
                                      parse_length_dist(o.output_tokens, "--output-tokens")};
  validate_length_dist(d.first, "--input-tokens");
  validate_length_dist(d.second, "--output-tokens");
  return d;
}

}  // namespace servetwin::cli
