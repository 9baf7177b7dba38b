#pragma once
// The TGIS batch planner's rules, its batch-weight model and its factory (tgis_planner.cpp; plans
// against RouterState; ../shared/reference/tgis_and_tgi_scheduling.md §1.2-1.4).
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/engine/batch_planner.hpp"

namespace servetwin {

// A request as the memory projection sees it.
struct TgisCandidate {
  std::int64_t len = 0;        // current length (input + generated)
  std::int64_t remaining = 0;  // worst-case tokens still to generate (max_new - generated)
};

// Batch weights (§1.2): E1 in token units, E2 in bytes from the memory model (§1.6); padded batches
// weigh every sequence at the longest length.
struct TgisWeights {
  bool e1 = false;
  bool padded = false;
  double limit = 0;    // E1: token units; E2: bytes
  double nt_coef = 1;  // E2: bytes per token of the running batch
  double pf_coef = 1;  // E2: bytes per prompt token at prefill

  // Weight of the running batch now.
  [[nodiscard]] double current(const std::vector<SimRequest*>& running) const;
  // Peak batch weight if every request runs to max_new_tokens (granular projection, §1.2).
  [[nodiscard]] double projected_peak(std::vector<TgisCandidate> all) const;
  // Weight of a prefill batch.
  [[nodiscard]] double prefill(const std::vector<SimRequest*>& batch) const;
};

struct TgisRules {
  TgisWeights weights;
  bool kv_concat = true;                 // flash batches rebuild the contiguous KV every decode step
  std::int64_t max_batch_size = 12;
  std::int64_t max_waiting_tokens = 24;
  double prefill_limit = 0;              // E1 only (0 = none)
  double max_prefill_padding = 0.2;
  double cutoff_ns = 1e9;                // CUTOFF_DURATION
  double kv_bytes_per_token = 0;         // per GPU, for the torch.cat copy
};

std::unique_ptr<BatchPlanner> make_tgis_planner(const TgisRules& rules);

}  // namespace servetwin
