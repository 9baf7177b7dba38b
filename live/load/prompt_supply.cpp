#include "live/load/prompt_supply.hpp"

#include <boost/random/uniform_int_distribution.hpp>
#include <fmt/format.h>

#include <algorithm>

#include "sim/core/rng.hpp"
#include "sim/workload/length_dist.hpp"

namespace servetwin::live {

std::string synthetic_prompt_text(std::int64_t pieces, std::uint64_t seed, std::uint64_t key,
                                  const PromptTokenPlan& plan) {
  auto rng = make_rng(seed, "synthetic-prompt", key);
  boost::random::uniform_int_distribution<std::size_t> pick(0, plan.piece_count() - 1);
  std::string text;
  text.reserve(static_cast<std::size_t>(std::max<std::int64_t>(pieces, 0)) * 4);
  for (std::int64_t i = 0; i < pieces; ++i) text += plan.piece(pick(rng));
  return text;
}

PromptSupply::PromptSupply(Dataset ds) { w_.dataset = std::move(ds); }
PromptSupply::PromptSupply(ResolvedWorkload w) : w_(std::move(w)) {}

std::unique_ptr<RequestSource> PromptSupply::stage_source(std::uint64_t seed, double level) const {
  return w_.make_source(seed, stage_stream_id(level));
}

std::unique_ptr<RequestSource> PromptSupply::warmup_source(std::uint64_t seed, double level) const {
  return w_.make_warmup_source(seed, stage_stream_id(level));
}

PromptSample PromptSupply::prompt(const RequestShape& shape, std::uint64_t seed, std::uint64_t request_id,
                                  const PromptTokenPlan& plan) const {
  if (shape.sample_index >= 0) return w_.dataset->samples.at(static_cast<std::size_t>(shape.sample_index));
  PromptSample p;
  p.id = fmt::format("synthetic-{}", request_id);
  p.input_tokens = shape.input_tokens;
  p.output_tokens = p.min_new_tokens = p.max_new_tokens = shape.output_tokens;
  // shared_prefix: the group's system prompt is the same text for every request of the group. The
  // server's own tokens (the plan's offset) come out of the request's own part.
  const std::int64_t pieces = plan.pieces_for(shape.input_tokens);
  const std::int64_t prefix = std::min(shape.prefix_group >= 0 ? shape.shared_prefix_tokens : 0, pieces);
  if (prefix > 0) {
    p.text = synthetic_prompt_text(prefix, seed, (1ULL << 40U) + static_cast<std::uint64_t>(shape.prefix_group), plan);
  }
  p.text += synthetic_prompt_text(pieces - prefix, seed, request_id, plan);
  return p;
}

nlohmann::json PromptSupply::to_json(const std::string& path) const {
  if (w_.dataset) {
    return {{"path", path}, {"format", w_.dataset->format}, {"name", w_.dataset->name},
            {"entries", w_.dataset->samples.size()}, {"token_count_source", w_.dataset->token_count_source}};
  }
  nlohmann::json j = {{"path", path}, {"prompt_text", kSyntheticPromptMethod}};
  if (w_.lengths) {
    j["kind"] = "synthetic";
    j["input"] = length_dist_json(w_.lengths->first);
    j["output"] = length_dist_json(w_.lengths->second);
  } else {
    j["kind"] = "shared_prefix";
    j["name"] = w_.shared_prefix->name;
  }
  return j;
}

}  // namespace servetwin::live
