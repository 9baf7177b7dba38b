#include "sim/workload/workload_choice.hpp"

#include "sim/catalog/catalog.hpp"
#include "sim/core/rng.hpp"

namespace servetwin {

std::unique_ptr<RequestSource> ResolvedWorkload::make_source(std::uint64_t seed, int stream) const {
  if (dataset) return make_dataset_source(*dataset, seed, stream);
  if (lengths) return make_synthetic_source(lengths->first, lengths->second, seed, stream);
  return make_shared_prefix_source(*shared_prefix, seed, stream);
}

std::unique_ptr<RequestSource> ResolvedWorkload::make_warmup_source(std::uint64_t seed, int stream) const {
  if (dataset) return make_dataset_source(*dataset, seed, stream, DatasetWalk::kFromEnd);
  return make_source(derive_seed(seed, "warmup-requests"), stream);
}

ResolvedWorkload resolve_workload(const Catalog& catalog, const WorkloadChoice& choice, const std::string& tokenizer) {
  ResolvedWorkload r;
  if (!choice.dataset_path.empty()) {
    r.dataset = load_dataset(choice.dataset_path, tokenizer);
    return r;
  }
  if (choice.lengths) {
    r.lengths = choice.lengths;
    return r;
  }
  const WorkloadSpec& w = catalog.workload(choice.workload);
  if (w.kind == "dataset") {
    r.dataset = load_dataset(catalog.dir() / w.dataset_file, tokenizer);
  } else if (w.kind == "synthetic") {
    r.lengths.emplace(w.input, w.output);
  } else if (w.kind == "shared_prefix") {
    r.shared_prefix = w;
  } else {
    throw ConfigError("workload '" + w.name + "': kind '" + w.kind +
                      "' cannot drive a stage here; allowed: dataset, synthetic, shared_prefix (or --trace FILE)");
  }
  return r;
}

}  // namespace servetwin
