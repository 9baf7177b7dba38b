#pragma once
// Synthetic prompts that hit the requested token count on the server's own tokenizer (issue 16
// item 4). A synthetic prompt is a run of "pieces": frequent English words with their leading
// space, 4 bytes each, which byte-level BPE vocabularies hold as one token each. The server adds
// its own tokens to every prompt (a BOS; for chat, the template), so a prompt of N requested
// tokens is N - offset pieces.
//
// Before the load the runner asks the server to count (Transport::count_tokens: OpenAI
// POST /tokenize, TGIS Tokenize) each piece alone, keeps the pieces that count one token above the
// smallest (the offset), and checks the plan on sample prompts ("tokenize"). Without a tokenizer
// call, the first response that reports a synthetic prompt's token count (usage.prompt_tokens,
// input_token_count) gives the offset ("first-response"); until then, and when neither works, the
// offset is 0 ("assumed"). The check after the run (prompt_token_check.hpp) says how well it went.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace servetwin::live {

class Transport;

// The candidate pieces (each 4 bytes, one token on the twin's count).
const std::vector<std::string>& synthetic_pieces();

struct PromptTokenPlan {
  std::string method = "assumed";   // "tokenize" | "first-response" | "assumed"
  std::int64_t offset_tokens = 0;   // tokens the server adds to every prompt
  std::vector<std::size_t> pieces;  // indices into synthetic_pieces() to draw from; empty = all
  std::string detail;               // how the plan was made, or why the server could not count
  // The number of pieces for a prompt of `requested` tokens as the server counts them (>= 0).
  [[nodiscard]] std::int64_t pieces_for(std::int64_t requested) const;
  [[nodiscard]] std::size_t piece_count() const { return pieces.empty() ? synthetic_pieces().size() : pieces.size(); }
  [[nodiscard]] const std::string& piece(std::size_t k) const {
    return synthetic_pieces()[pieces.empty() ? k : pieces[k]];
  }
  [[nodiscard]] nlohmann::json to_json() const;
};

// From the server's count of each piece alone (counts[i] for synthetic_pieces()[i]): offset = the
// smallest count - 1 (no vocabulary splits all of these words), pieces = those with the smallest
// count. Returns a plan with method "tokenize", or sets `error` (a count missing or below 1).
PromptTokenPlan plan_from_piece_counts(const std::vector<std::int64_t>& counts, std::string& error);

// Prompts to check a plan on: 1, 7 and 64 pieces drawn from the plan's pieces.
struct TokenSample {
  std::int64_t pieces = 0;
  std::string text;
};
std::vector<TokenSample> verification_samples(const PromptTokenPlan& plan, std::uint64_t seed);
// "" when the server counted each sample as offset + pieces; else the first difference.
std::string check_samples(const PromptTokenPlan& plan, const std::vector<TokenSample>& samples,
                          const std::vector<std::int64_t>& counts);

// Asks the transport's tokenizer call (before the load; a few requests, no generation) and
// returns the plan: "tokenize" when the counts verify, else "assumed" with the reason in detail.
PromptTokenPlan calibrate_prompt_tokens(Transport& transport, std::uint64_t seed);

// First-response: a synthetic prompt of `pieces` pieces that the server counted `server_tokens`.
// An "assumed" plan takes offset = server_tokens - pieces (when 0 to kMaxOffsetTokens; otherwise the
// pieces are not one token each, which is noted in detail instead). A "first-response" plan notes
// (once) a later response whose offset differs. Returns true when the plan changed.
bool learn_offset_from_response(PromptTokenPlan& plan, std::int64_t pieces, std::int64_t server_tokens);

// The most tokens a server is believed to add to a prompt (BOS, a short chat template).
inline constexpr std::int64_t kMaxOffsetTokens = 64;

}  // namespace servetwin::live
