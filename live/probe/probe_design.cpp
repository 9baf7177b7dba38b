#include "live/probe/probe_design.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>

namespace servetwin::live {

std::vector<ProbePhase> design_probe(const ProbeDesignOptions& o) {
  auto n = [&o](double base) { return std::max<std::int64_t>(1, std::llround(base * o.scale)); };
  const std::int64_t max_prompt = std::max<std::int64_t>(64, o.max_context_tokens - 64);
  std::vector<std::int64_t> lengths;
  for (const double f : {0.02, 0.1, 0.25, 0.45, 0.7}) lengths.push_back(std::max<std::int64_t>(16, std::llround(f * static_cast<double>(max_prompt))));
  std::vector<int> batches;
  for (int c = 1; c <= o.max_concurrency; c *= 2) batches.push_back(c);
  std::vector<ProbePhase> phases;
  phases.push_back({"prefill", "TTFT of one request on an idle server vs prompt tokens", lengths, 2, {1}, 0,
                    n(3) * static_cast<std::int64_t>(lengths.size()), 1});
  ProbePhase decode{"decode", "inter-token time vs the number of requests in decode (short prompts)",
                    {32}, 48, batches, 0, 0, 0};
  decode.requests_per_stage = 0;  // per stage: 2 rounds of c users (set per stage by the runner: 2c x scale)
  phases.push_back(decode);
  const std::int64_t long_prompt = std::max<std::int64_t>(64, std::llround(0.4 * static_cast<double>(max_prompt)));
  phases.push_back({"decode-context", "inter-token time vs context tokens in the batch (long prompts)",
                    {long_prompt}, 48, {1, std::max(2, o.max_concurrency / 4)}, 0, 0, 0});
  phases.push_back({"burst", "requests sent at once: how many the server runs together (admission limit)",
                    {32}, 16, {}, 1000.0, o.burst_requests, 0});
  return phases;
}

double estimate_probe_s(const std::vector<ProbePhase>& phases, double decode_step_s, double prefill_s_per_token) {
  double total = 0;
  for (const auto& p : phases) {
    double mean_in = 0;
    for (auto t : p.input_tokens) mean_in += static_cast<double>(t);
    mean_in /= static_cast<double>(std::max<std::size_t>(1, p.input_tokens.size()));
    const double per_request = mean_in * prefill_s_per_token + static_cast<double>(p.output_tokens) * decode_step_s;
    if (p.concurrency.empty()) {
      total += static_cast<double>(p.requests_per_stage) * per_request / 4;  // batched: a few times faster
      continue;
    }
    for (int c : p.concurrency) {
      const double rounds = p.requests_per_stage > 0 ? static_cast<double>(p.requests_per_stage + p.warmup_per_stage) / c : 3;
      // A step at batch c costs more than at 1; 1 + c/16 is a guess for the estimate only (the watchdog enforces the budget).
      total += rounds * per_request * (1.0 + c / 16.0);
    }
  }
  return total;
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
