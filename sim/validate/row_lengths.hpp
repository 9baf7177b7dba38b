#pragma once
// Which request lengths a published row ran with: its workload name, its stated means and its description.
// - A catalog workload of kind dataset or shared_prefix runs as it is (the seed's OpenOrca subset, BLIS's specs).
// - A catalog length shape (kind synthetic: ShareGPT, Sonnet, fixed, ...; names and aliases in
//   configs/workloads) is scaled to the row's input/output means when it states them, else runs as it is.
// - Any other name with stated means: the default shape, every request exactly the means (fixed lengths).
// - Means left out but totals stated ("total_input_tokens=229711", "total generated tokens: 203068" in notes or
//   input_tokens_desc): totals / the stated request count (else the default count, 1000).
// - Neither a workload nor both means: a reason naming the fields.
#include <cstdint>
#include <optional>
#include <string>

#include "sim/catalog/specs.hpp"
#include "sim/validate/validation_csv.hpp"

namespace servetwin {

class Catalog;

struct RowLengths {
  enum class Kind { kCatalog, kShape } kind = Kind::kShape;
  std::string workload;         // kCatalog: the catalog workload's name
  LengthDist input, output;     // kShape: what each request's lengths are drawn from
  std::string how;              // one line for the row's load note; empty when the row named a catalog workload
  [[nodiscard]] bool fixed() const { return input.kind == "fixed" && output.kind == "fixed"; }
};

// Requests a row runs when it states no count: vLLM's `bench serve` / `benchmark_throughput` --num-prompts default
// (../shared/reference/loadtesters.md §3.5: "--num-prompts (default 1000)"), the harness most published rows
// without a duration or count come from.
inline constexpr std::int64_t kDefaultRequests = 1000;

// The request count a row's description states ("3000 requests", "--num-prompts 1000", "num_prompts=1000"), if any.
std::optional<std::int64_t> stated_request_count(const ValidationRow& row);

// "" and `out` set, or the reason the row's lengths are unknown.
std::string choose_row_lengths(const Catalog& catalog, const ValidationRow& row, RowLengths& out);

// `d` with its mean moved to `mean` and its spread scaled in proportion (the coefficient of variation and the
// shape are kept; min stays >= 1).
LengthDist scaled_to_mean(const LengthDist& d, double mean);

// The mean of a length distribution before clamping (uniform: the midpoint).
double nominal_mean(const LengthDist& d);

}  // namespace servetwin
