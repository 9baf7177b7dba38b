#pragma once
// Which request lengths a published row ran with: its workload name, its stated means and its description.
// - A catalog workload of kind dataset or shared_prefix runs as it is (the seed's OpenOrca subset, BLIS's specs).
// - A catalog length shape (kind synthetic: ShareGPT, Sonnet, fixed, ...; names and aliases in
//   configs/workloads) is scaled to the row's input/output means when it states them, else runs as it is.
// - Any other name with stated means: the default shape, every request exactly the means (fixed lengths).
// - Neither a workload nor both means: a reason naming the fields.
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

// "" and `out` set, or the reason the row's lengths are unknown.
std::string choose_row_lengths(const Catalog& catalog, const ValidationRow& row, RowLengths& out);

// `d` with its mean moved to `mean` and its spread scaled in proportion (the coefficient of variation and the
// shape are kept; min stays >= 1).
LengthDist scaled_to_mean(const LengthDist& d, double mean);

// The mean of a length distribution before clamping (uniform: the midpoint).
double nominal_mean(const LengthDist& d);

}  // namespace servetwin
