#include "live/load/prompt_tokens.hpp"

#include <boost/random/uniform_int_distribution.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "live/load/transport.hpp"
#include "sim/core/rng.hpp"

namespace servetwin::live {

const std::vector<std::string>& synthetic_pieces() {
  // Each piece is exactly 4 bytes (the twin's token) and a frequent English word with its leading
  // space. All 28 are single tokens of the project's byte-level BPE (configs/real-engines/tiny-llama/
  // tokenizer.json, checked with the `tokenizers` package: 200 random texts of 1-700 pieces encode to
  // exactly one token per piece, plus BOS); " now", " our", " see", " day" were dropped for being two.
  // Other tokenizers are asked at run time (calibrate_prompt_tokens).
  static const std::vector<std::string> kPieces{
      " the", " and", " for", " you", " not", " are", " but", " can", " all", " was", " one", " has", " her", " him",
      " his", " how", " its", " may", " new", " old", " out", " two", " way", " who", " did", " get", " say", " she"};
  return kPieces;
}

std::int64_t PromptTokenPlan::pieces_for(std::int64_t requested) const {
  return std::max<std::int64_t>(requested - offset_tokens, 0);
}

nlohmann::json PromptTokenPlan::to_json() const {
  nlohmann::json used = nlohmann::json::array();
  for (std::size_t k = 0; k < piece_count(); ++k) used.push_back(piece(k));
  return {{"method", method}, {"offset_tokens", offset_tokens}, {"pieces", used}, {"detail", detail}};
}

PromptTokenPlan plan_from_piece_counts(const std::vector<std::int64_t>& counts, std::string& error) {
  PromptTokenPlan plan;
  const auto& all = synthetic_pieces();
  if (counts.size() != all.size()) {
    error = fmt::format("{} counts for {} pieces", counts.size(), all.size());
    return plan;
  }
  const std::int64_t smallest = *std::min_element(counts.begin(), counts.end());
  if (smallest < 1) {
    error = fmt::format("a one-word text counted {} tokens", smallest);
    return plan;
  }
  std::vector<std::string> dropped;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (counts[i] == smallest) plan.pieces.push_back(i);
    else dropped.push_back(fmt::format("'{}' = {}", all[i], counts[i] - smallest + 1));
  }
  if (plan.pieces.size() == all.size()) plan.pieces.clear();  // all of them: the default draw
  plan.method = "tokenize";
  plan.offset_tokens = smallest - 1;
  plan.detail = fmt::format("{} of {} pieces are one token", all.size() - dropped.size(), all.size());
  if (!dropped.empty()) plan.detail += fmt::format(" (dropped: {})", fmt::join(dropped, ", "));
  return plan;
}

namespace {

std::string sample_text(const PromptTokenPlan& plan, std::int64_t pieces, std::uint64_t seed, std::uint64_t key) {
  auto rng = make_rng(seed, "prompt-token-sample", key);
  boost::random::uniform_int_distribution<std::size_t> pick(0, plan.piece_count() - 1);
  std::string text;
  for (std::int64_t i = 0; i < pieces; ++i) text += plan.piece(pick(rng));
  return text;
}

}  // namespace

std::vector<TokenSample> verification_samples(const PromptTokenPlan& plan, std::uint64_t seed) {
  std::vector<TokenSample> out;
  std::uint64_t key = 0;
  for (const std::int64_t n : {1, 7, 64}) out.push_back({n, sample_text(plan, n, seed, key++)});
  return out;
}

std::string check_samples(const PromptTokenPlan& plan, const std::vector<TokenSample>& samples,
                          const std::vector<std::int64_t>& counts) {
  if (counts.size() != samples.size()) return fmt::format("{} counts for {} samples", counts.size(), samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const std::int64_t expected = plan.offset_tokens + samples[i].pieces;
    if (counts[i] != expected) {
      return fmt::format("a prompt of {} pieces counted {} tokens, expected {} (offset {} + one per piece)",
                         samples[i].pieces, counts[i], expected, plan.offset_tokens);
    }
  }
  return {};
}

PromptTokenPlan calibrate_prompt_tokens(Transport& transport, std::uint64_t seed) {
  PromptTokenPlan fallback;
  const ServerTokenCounts alone = transport.count_tokens(synthetic_pieces());
  if (!alone.error.empty()) {
    fallback.detail = alone.call.empty() ? alone.error : fmt::format("{}: {}", alone.call, alone.error);
    return fallback;
  }
  const std::string& call = alone.call;
  std::string error;
  PromptTokenPlan plan = plan_from_piece_counts(alone.counts, error);
  if (!error.empty()) {
    fallback.detail = fmt::format("{}: {}", call, error);
    return fallback;
  }
  const std::vector<TokenSample> samples = verification_samples(plan, seed);
  std::vector<std::string> texts;
  texts.reserve(samples.size());
  for (const auto& s : samples) texts.push_back(s.text);
  const ServerTokenCounts counted = transport.count_tokens(texts);
  error = counted.error.empty() ? check_samples(plan, samples, counted.counts) : counted.error;
  if (!error.empty()) {
    fallback.detail = fmt::format("{}: not used: {}", call, error);
    return fallback;
  }
  plan.detail = fmt::format("{}: offset {} tokens per prompt; {}; checked on prompts of 1, 7 and 64 pieces", call,
                            plan.offset_tokens, plan.detail);
  return plan;
}

bool learn_offset_from_response(PromptTokenPlan& plan, std::int64_t pieces, std::int64_t server_tokens) {
  if (plan.method == "tokenize" || pieces < 0 || server_tokens <= 0) return false;
  const std::int64_t offset = server_tokens - pieces;
  auto note_once = [&plan](const std::string& key, const std::string& why) {
    if (plan.detail.find(key) != std::string::npos) return false;
    plan.detail += (plan.detail.empty() ? "" : "; ") + why;
    return true;
  };
  if (plan.method == "first-response") {
    // One response cannot tell an offset from pieces that are not one token; a later one can.
    if (offset == plan.offset_tokens) return false;
    return note_once("later responses disagree",
                     fmt::format("later responses disagree: a prompt of {} pieces counted {} tokens (offset {})",
                                 pieces, server_tokens, offset));
  }
  if (offset < 0 || offset > kMaxOffsetTokens) {
    return note_once("first response:",
                     fmt::format("first response: a prompt of {} pieces counted {} tokens; the pieces are not one "
                                 "token each on this server, prompts sent as assumed",
                                 pieces, server_tokens));
  }
  plan.method = "first-response";
  plan.offset_tokens = offset;
  plan.detail += fmt::format("{}first response: a prompt of {} pieces counted {} tokens: offset {} from then on",
                             plan.detail.empty() ? "" : "; ", pieces, server_tokens, offset);
  return true;
}

}  // namespace servetwin::live
