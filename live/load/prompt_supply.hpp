#pragma once
// What `servetwin load` sends: the stage's requests come from sim/workload's RequestSource (the
// one `predict` uses, keyed by the same seed and stage stream), so both verbs send the same
// request sequence; this class turns each drawn shape into a prompt to send.
//  - dataset samples: the sample's own text and min/max_new_tokens;
//  - synthetic lengths (and shared_prefix groups): generated text of exactly the drawn token
//    count on the twin's tokenizer (approx_token_count: 4 bytes per token), made of 4-byte
//    " word" pieces that common BPE vocabularies hold as single tokens (kSyntheticPromptMethod).
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/workload/dataset.hpp"
#include "sim/workload/request_source.hpp"
#include "sim/workload/workload_choice.hpp"

namespace servetwin::live {

// How synthetic prompt text is made to hit its token count, as recorded in summary.json.
inline constexpr const char* kSyntheticPromptMethod =
    "4-byte ' word' pieces: one token each on the twin's count (ceil(bytes/4)) and on the tiny-llama byte-level "
    "BPE (checked offline); other tokenizers: compare requests.csv input_tokens (the server's usage count, BOS "
    "included) with schedule.csv";

// `tokens` tokens of text as the twin counts them (4 * tokens bytes): random 4-byte " word" pieces
// drawn from make_rng(seed, "synthetic-prompt", key), so different keys give different prompts.
std::string synthetic_prompt_text(std::int64_t tokens, std::uint64_t seed, std::uint64_t key);

class PromptSupply {
 public:
  // A dataset's prompts (the tests, the calibration probe and `--dataset`).
  PromptSupply(Dataset ds);  // NOLINT(google-explicit-constructor): a dataset is a prompt supply
  explicit PromptSupply(ResolvedWorkload w);

  // The request source of a stage at load level `level` (users or requests/s), as predict keys it.
  [[nodiscard]] std::unique_ptr<RequestSource> stage_source(std::uint64_t seed, double level) const;
  // The prompt for a shape drawn from stage_source; `request_id` keys the synthetic text.
  [[nodiscard]] PromptSample prompt(const RequestShape& shape, std::uint64_t seed, std::uint64_t request_id) const;
  // For resolved_config: the dataset (path, format, name, entries) or the synthetic lengths.
  [[nodiscard]] nlohmann::json to_json(const std::string& path) const;

 private:
  ResolvedWorkload w_;
};

}  // namespace servetwin::live
