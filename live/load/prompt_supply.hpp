#pragma once
// What `servetwin load` sends: the stage's requests come from sim/workload's RequestSource (the
// one `predict` uses, keyed by the same seed and stage stream), so both verbs send the same
// request sequence; this class turns each drawn shape into a prompt to send.
//  - dataset samples: the sample's own text and min/max_new_tokens;
//  - synthetic lengths (and shared_prefix groups): generated text of the drawn token count as the
//    server counts it: drawn length - the server's offset (its BOS, ...) pieces of 4-byte " word"
//    text that BPE vocabularies hold as one token each, per the run's PromptTokenPlan
//    (prompt_tokens.hpp: asked of the server before the load, checked after it).
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "live/load/prompt_tokens.hpp"
#include "sim/workload/dataset.hpp"
#include "sim/workload/request_source.hpp"
#include "sim/workload/workload_choice.hpp"

namespace servetwin::live {

// How synthetic prompt text is made to hit its token count, as recorded in summary.json.
inline constexpr const char* kSyntheticPromptMethod =
    "4-byte ' word' pieces, one token each, drawn length - the server's offset of them (resolved_config."
    "prompt_tokens says how the offset and pieces were found; each stage's prompt_token_check compares the "
    "server's counts with the drawn lengths)";

// `pieces` random pieces of `plan` (4 * pieces bytes), drawn from make_rng(seed, "synthetic-prompt",
// key), so different keys give different prompts; the default plan draws from all pieces.
std::string synthetic_prompt_text(std::int64_t pieces, std::uint64_t seed, std::uint64_t key,
                                  const PromptTokenPlan& plan = {});

class PromptSupply {
 public:
  // A dataset's prompts (the tests, the calibration probe and `--dataset`).
  PromptSupply(Dataset ds);  // NOLINT(google-explicit-constructor): a dataset is a prompt supply
  explicit PromptSupply(ResolvedWorkload w);

  // The request source of a stage at load level `level` (users or requests/s), as predict keys it.
  [[nodiscard]] std::unique_ptr<RequestSource> stage_source(std::uint64_t seed, double level) const;
  // The stage's warm-up requests: the same workload from an independent stream, so that warm-up
  // requests leave the stage source's sequence (predict's) to the measured requests.
  [[nodiscard]] std::unique_ptr<RequestSource> warmup_source(std::uint64_t seed, double level) const;
  // The prompt for a shape drawn from stage_source; `request_id` keys the synthetic text, `plan`
  // says how many pieces make the drawn length on the server.
  [[nodiscard]] PromptSample prompt(const RequestShape& shape, std::uint64_t seed, std::uint64_t request_id,
                                    const PromptTokenPlan& plan = {}) const;
  // True when prompts are generated text (synthetic lengths, shared_prefix), not a dataset's.
  [[nodiscard]] bool synthetic() const { return !w_.dataset.has_value(); }
  // For resolved_config: the dataset (path, format, name, entries) or the synthetic lengths.
  [[nodiscard]] nlohmann::json to_json(const std::string& path) const;

 private:
  ResolvedWorkload w_;
};

}  // namespace servetwin::live
