#include "live/probe/probe_design.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

namespace servetwin::live {

namespace {
// Output tokens of the decode stages: long enough that a stage's steps are mostly decode steps.
constexpr std::int64_t kDecodeOutputTokens = 64;
}  // namespace

std::int64_t decode_rounds(double scale) { return std::max<std::int64_t>(1, std::llround(kDecodeRounds * scale)); }

std::vector<ProbePhase> design_probe(const ProbeDesignOptions& o) {
  auto n = [&o](double base) { return std::max<std::int64_t>(1, std::llround(base * o.scale)); };
  const std::int64_t max_prompt = std::max<std::int64_t>(64, o.max_context_tokens - 64);
  std::vector<std::int64_t> lengths;
  for (const double f : {0.02, 0.1, 0.25, 0.45, 0.7}) lengths.push_back(std::max<std::int64_t>(16, std::llround(f * static_cast<double>(max_prompt))));
  std::vector<int> batches;
  for (int c = 1; c <= o.max_concurrency; c *= 2) batches.push_back(c);
  std::vector<ProbePhase> phases;
  phases.push_back({"prefill", "TTFT of one request on an idle server vs prompt tokens", lengths, 2, {1}, 0,
                    n(3) * static_cast<std::int64_t>(lengths.size()), 1, {}});
  ProbePhase decode{"decode", "inter-token time vs the number of requests in decode (short prompts)",
                    {32}, kDecodeOutputTokens, batches, 0, 0, 0, {}};
  phases.push_back(decode);
  // Long prompts at every batch the KV cache holds them at (no preemption inside the probe) and one
  // step's budget prefills them together: the same batches at two contexts separate the
  // per-context-token cost from the per-sequence cost.
  const std::int64_t long_prompt = std::max<std::int64_t>(64, std::llround(0.4 * static_cast<double>(max_prompt)));
  ProbePhase context{"decode-context", "inter-token time vs context tokens in the batch (long prompts)",
                     {long_prompt}, kDecodeOutputTokens, {}, 0, 0, 0, {}};
  for (const int c : batches) {
    std::int64_t prompt = std::min<std::int64_t>(long_prompt, std::llround(kDecodeKvShare * static_cast<double>(o.step_token_budget) / c));
    if (o.kv_tokens > 0) {
      const std::int64_t block = std::max<std::int64_t>(1, o.kv_block_tokens);
      // Whole KV blocks: the integer division is the block count.
      // NOLINTNEXTLINE(bugprone-integer-division)
      const auto blocks_per_request = static_cast<std::int64_t>(kDecodeKvShare * static_cast<double>(o.kv_tokens / block) / c);
      prompt = std::min(prompt, blocks_per_request * block - kDecodeOutputTokens);
    }
    if (prompt < 4 * decode.input_tokens.front()) continue;  // too close to the short prompts to tell contexts apart
    context.concurrency.push_back(c);
    context.per_stage_input_tokens.push_back(prompt);
  }
  if (!context.concurrency.empty()) phases.push_back(context);
  if (o.reference_input_tokens > 0 && o.reference_output_tokens > 0)
    phases.push_back({"reference", "lone requests of the drift sentinels' shape (--reference-dataset), one per pass: the "
                      "server speed the sentinels are compared with", {o.reference_input_tokens}, o.reference_output_tokens,
                      {1}, 0, 0, 0, {}});
  phases.push_back({"burst", "requests sent at once: how many the server runs together (admission limit)",
                    {32}, 16, {}, 1000.0, o.burst_requests, 0, {}});
  return phases;
}

double estimate_probe_s(const std::vector<ProbePhase>& phases, double decode_step_s, double prefill_s_per_token, double scale) {
  double total = 0;
  for (const auto& p : phases) {
    double mean_in = 0;
    for (auto t : p.input_tokens) mean_in += static_cast<double>(t);
    mean_in /= static_cast<double>(std::max<std::size_t>(1, p.input_tokens.size()));
    const double decode_s = static_cast<double>(p.output_tokens) * decode_step_s;
    if (p.concurrency.empty()) {
      total += static_cast<double>(p.requests_per_stage) * (mean_in * prefill_s_per_token + decode_s) / 4;  // batched: a few times faster
      continue;
    }
    for (std::size_t i = 0; i < p.concurrency.size(); ++i) {
      const int c = p.concurrency[i];
      const double in = i < p.per_stage_input_tokens.size() ? static_cast<double>(p.per_stage_input_tokens[i]) : mean_in;
      // Stages of rounds x c requests (one warm-up round): a round takes one request's time.
      const double rounds = p.requests_per_stage > 0 ? static_cast<double>(p.requests_per_stage + p.warmup_per_stage) / c
                                                     : 1 + static_cast<double>(decode_rounds(scale));
      // A round: c prefills, then decode steps at batch c, which cost more than at 1 (1 + c/16 is a guess
      // for the estimate only; the watchdog enforces the budget).
      total += rounds * (c * in * prefill_s_per_token + decode_s * (1.0 + c / 16.0));
    }
  }
  return total;
}

bool is_interleaved(const ProbePhase& p) { return !p.concurrency.empty() && p.requests_per_stage == 0; }

std::vector<DecodeRound> interleaved_decode_schedule(const std::vector<ProbePhase>& phases, int passes) {
  std::vector<DecodeRound> out;
  for (int pass = 0; pass < passes; ++pass)
    for (std::size_t pi = 0; pi < phases.size(); ++pi) {
      if (!is_interleaved(phases[pi])) continue;
      // The reference is scored as the sentinels are run: lone requests without a warm-up round.
      const bool warmup = pass == 0 && phases[pi].name != "reference";
      for (std::size_t si = 0; si < phases[pi].concurrency.size(); ++si) out.push_back({pi, si, pass, warmup});
    }
  return out;
}

double estimate_decode_pass_s(const std::vector<ProbePhase>& phases, double decode_step_s, double prefill_s_per_token) {
  double total = 0;
  for (const auto& p : phases) {
    if (!is_interleaved(p)) continue;
    for (std::size_t i = 0; i < p.concurrency.size(); ++i) {
      const int c = p.concurrency[i];
      const double in = static_cast<double>(i < p.per_stage_input_tokens.size() ? p.per_stage_input_tokens[i] : p.input_tokens.front());
      total += c * in * prefill_s_per_token + static_cast<double>(p.output_tokens) * decode_step_s * (1.0 + c / 16.0);
    }
  }
  return total;
}

int decode_passes(double scale, double pass_s, double span_s, double spare_s) {
  const auto least = static_cast<int>(decode_rounds(scale));
  if (!(pass_s > 0)) return least;
  // Passes beyond the least: as many as the span wants and the spare budget pays for.
  const double extra_s = std::min(span_s - least * pass_s, spare_s);
  const int extra = extra_s > 0 ? static_cast<int>(std::floor(extra_s / pass_s)) : 0;
  return std::min(kMaxDecodePasses, least + extra);
}

Dataset make_probe_dataset(const std::string& name, const std::vector<std::int64_t>& tokens, std::int64_t count,
                           std::int64_t output_tokens, double tokens_per_word, std::uint64_t seed) {
  static constexpr std::array<const char*, 48> kWords{
      "time",  "year",   "people", "way",    "day",   "man",    "thing", "woman", "life",  "child", "world", "school",
      "state", "family", "student", "group", "country", "problem", "hand", "part", "place", "case",  "week",  "company",
      "system", "program", "question", "work", "government", "number", "night", "point", "home", "water", "room", "mother",
      "area",  "money",  "story",  "fact",   "month", "lot",    "right", "study", "book",  "eye",   "job",   "word"};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, kWords.size() - 1);
  Dataset ds;
  ds.format = "servetwin-probe";
  ds.name = name;
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t target = tokens[static_cast<std::size_t>(i) % tokens.size()];
    const auto words = std::max<std::int64_t>(1, std::llround(static_cast<double>(target) / std::max(0.1, tokens_per_word)));
    PromptSample e;
    e.id = name + "-" + std::to_string(i);
    for (std::int64_t w = 0; w < words; ++w) e.text += std::string(w == 0 ? "" : " ") + kWords[pick(rng)];
    e.input_tokens = target;
    e.output_tokens = output_tokens;
    e.min_new_tokens = output_tokens;
    e.max_new_tokens = output_tokens;
    ds.samples.push_back(std::move(e));
  }
  return ds;
}

}  // namespace servetwin::live
