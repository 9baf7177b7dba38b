#include "sim/validate/row_lengths.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <regex>

#include "sim/catalog/catalog.hpp"

namespace servetwin {
namespace {

LengthDist fixed_length(double mean) {
  LengthDist d;
  d.kind = "fixed";
  d.mean = mean;
  return d;
}

// A catalog length shape (kind synthetic) named by `name`, if any.
const WorkloadSpec* shape_named(const Catalog& catalog, const std::string& name) {
  if (name.empty() || !catalog.has_workload(name)) return nullptr;
  const WorkloadSpec& w = catalog.workload(name);
  return w.kind == "synthetic" ? &w : nullptr;
}

// A length shape named by a word of the row's description ("ShareGPT V3, 1000 prompts"), if the workload cell
// names none.
const WorkloadSpec* shape_in_description(const Catalog& catalog, const std::string& desc) {
  static const std::regex word("[A-Za-z][A-Za-z0-9_.-]*");
  for (auto it = std::sregex_iterator(desc.begin(), desc.end(), word); it != std::sregex_iterator(); ++it) {
    std::string w = it->str();
    while (!w.empty() && (w.back() == '.' || w.back() == '-')) w.pop_back();  // sentence punctuation
    if (const WorkloadSpec* spec = shape_named(catalog, w)) return spec;
  }
  return nullptr;
}

// The row says its lengths are fixed ("synthetic-fixed", "fixed ISL 1000 / OSL 1000").
bool states_fixed_lengths(const ValidationRow& row) {
  static const std::regex fixed("\\bfixed\\b", std::regex::icase);
  return std::regex_search(row.get("workload"), fixed) || std::regex_search(row.get("input_tokens_desc"), fixed);
}

// A total the row states in its notes or description ("total_input_tokens=229711", "Total input tokens: 229,711").
std::optional<double> stated_total(const ValidationRow& row, const std::string& what) {
  const std::regex re("total[ _]" + what + "[ _]tokens[ =:]*([0-9][0-9,]*)", std::regex::icase);
  for (const char* col : {"notes", "input_tokens_desc"}) {
    std::smatch m;
    const std::string& text = row.get(col);
    if (!std::regex_search(text, m, re)) continue;
    std::string digits = m[1].str();
    digits.erase(std::remove(digits.begin(), digits.end(), ','), digits.end());
    return std::stod(digits);
  }
  return std::nullopt;
}

}  // namespace

double nominal_mean(const LengthDist& d) { return d.kind == "uniform" ? (d.min + d.max) / 2 : d.mean; }

LengthDist scaled_to_mean(const LengthDist& d, double mean) {
  const double base = nominal_mean(d);
  if (d.kind == "fixed" || !(base > 0)) return fixed_length(mean);
  const double r = mean / base;
  LengthDist out = d;
  out.mean = mean;
  out.stddev = d.stddev * r;
  out.min = std::max(1.0, d.min * r);
  out.max = std::max(out.min, d.max * r);
  return out;
}

std::optional<std::int64_t> stated_request_count(const ValidationRow& row) {
  // "3000 requests", or vLLM bench's "--num-prompts 1000" / "num_prompts=1000" (not "a subset of 32 prompts": that
  // is the dataset's size, not how many were sent).
  static const std::regex re("([0-9]+) requests\\b|num[_-]prompts[= ]+([0-9]+)");
  std::smatch m;
  const std::string& desc = row.get("input_tokens_desc");
  if (!std::regex_search(desc, m, re)) return std::nullopt;
  return std::stoll(m[1].matched ? m[1].str() : m[2].str());
}

std::string choose_row_lengths(const Catalog& catalog, const ValidationRow& row, RowLengths& out) {
  const std::string& name = row.get("workload");
  auto in_mean = row.number("input_tokens_mean");
  auto out_mean = row.number("output_tokens_mean");
  std::string from_totals;
  if (!in_mean || !out_mean) {
    const auto in_total = stated_total(row, "input");
    auto out_total = stated_total(row, "output");
    if (!out_total) out_total = stated_total(row, "generated");
    if (in_total && out_total) {
      const auto n = stated_request_count(row);
      const double count = static_cast<double>(n.value_or(kDefaultRequests));
      in_mean = *in_total / count;
      out_mean = *out_total / count;
      from_totals = fmt::format("means from the stated totals / {} requests ({}); ", count,
                                n ? "the stated count" : "default count");
    }
  }
  const bool means = in_mean && out_mean && *in_mean >= 1 && *out_mean >= 1;
  if (!name.empty() && catalog.has_workload(name)) {
    const WorkloadSpec& w = catalog.workload(name);
    if (w.kind == "shared_prefix" || (w.kind == "dataset" && !means) || (w.kind == "synthetic" && !means)) {
      out.kind = RowLengths::Kind::kCatalog;
      out.workload = w.name;
      out.how.clear();  // the row named what it ran: nothing was chosen for it
      return "";
    }
  }
  if (!means) {
    return fmt::format("input_tokens_mean/output_tokens_mean: both needed (tokens, >= 1) because workload '{}' is not a "
                       "catalog workload (servetwin list workloads: a dataset, shared-prefix spec or named length shape)",
                       name);
  }
  const WorkloadSpec* shape = shape_named(catalog, name);
  if (shape == nullptr) shape = shape_in_description(catalog, row.get("input_tokens_desc"));
  out.kind = RowLengths::Kind::kShape;
  if (shape == nullptr) {
    out.input = fixed_length(*in_mean);
    out.output = fixed_length(*out_mean);
    if (states_fixed_lengths(row) && from_totals.empty()) return "";  // the row said what it ran
    out.how = from_totals + fmt::format("lengths: default shape, every request {:.0f} in / {:.0f} out (the row's means; workload '{}' "
                          "names no catalog length shape)",
                          *in_mean, *out_mean, name);
    return "";
  }
  out.input = scaled_to_mean(shape->input, *in_mean);
  out.output = scaled_to_mean(shape->output, *out_mean);
  out.how = from_totals + fmt::format("lengths: {} shape ({} in, {} out) scaled to the row's means {:.0f} in / {:.0f} out",
                        shape->name, shape->input.kind, shape->output.kind, *in_mean, *out_mean);
  return "";
}

}  // namespace servetwin
