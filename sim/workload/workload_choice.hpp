#pragma once
// Which requests a stage sends, chosen from the same options in `predict` and `load`: a dataset
// file, synthetic length distributions, or a catalog workload. Both verbs build their stage's
// RequestSource here, so the same seed gives the same request sequence in both.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "sim/catalog/specs.hpp"
#include "sim/workload/dataset.hpp"
#include "sim/workload/request_source.hpp"

namespace servetwin {

class Catalog;

struct WorkloadChoice {
  std::string dataset_path;                                  // llm-load-test v1/v2 file
  std::optional<std::pair<LengthDist, LengthDist>> lengths;  // synthetic input, output lengths
  std::string workload;                                      // catalog workload, when neither is set
};

struct ResolvedWorkload {
  std::optional<Dataset> dataset;                            // dataset file or dataset workload
  std::optional<std::pair<LengthDist, LengthDist>> lengths;  // synthetic
  std::optional<WorkloadSpec> shared_prefix;                 // inference-perf shared_prefix workload
  // The stage's source; `stream` = stage_stream_id(level).
  [[nodiscard]] std::unique_ptr<RequestSource> make_source(std::uint64_t seed, int stream) const;
  // Warm-up requests' draws: a dataset's prompts from the other end of each user's walk (no prompt of
  // the measured requests repeated); synthetic lengths from their own seeded stream.
  [[nodiscard]] std::unique_ptr<RequestSource> make_warmup_source(std::uint64_t seed, int stream) const;
};

// Precedence: dataset_path, then lengths, then the catalog workload. `tokenizer` is the served
// model's tokenizer family (dataset token counts, dataset.hpp). Throws ConfigError.
ResolvedWorkload resolve_workload(const Catalog& catalog, const WorkloadChoice& choice, const std::string& tokenizer);

}  // namespace servetwin
