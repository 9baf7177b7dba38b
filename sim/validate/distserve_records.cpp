#include "sim/validate/distserve_records.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>
#include <utility>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

namespace {

// The number after `'key': ` at or after `from`. Line 1 of the file is a Python literal list of
// flat dicts with the keys in a fixed order, so each key's next occurrence belongs to the record
// the previous key's did.
bool number_after(const std::string& text, const std::string& key, std::size_t& from, double& out) {
  const std::size_t k = text.find(key, from);
  if (k == std::string::npos) return false;
  std::size_t p = k + key.size();
  while (p < text.size() && (text[p] == ' ' || text[p] == ':')) ++p;
  const auto [end, ec] = std::from_chars(text.data() + p, text.data() + text.size(), out);
  if (ec != std::errc()) return false;
  from = static_cast<std::size_t>(end - text.data());
  return true;
}

}  // namespace

std::vector<DistServeRecord> read_distserve_records(const std::filesystem::path& exp_file) {
  std::ifstream in(exp_file);
  std::string line;
  if (!in || !std::getline(in, line)) throw ConfigError(exp_file.string() + ": cannot read the per-request records");
  std::vector<DistServeRecord> out;
  std::size_t pos = 0;
  for (;;) {
    double prompt = 0, output = 0;
    DistServeRecord r;
    if (!number_after(line, "'prompt_len'", pos, prompt)) break;
    if (!number_after(line, "'output_len'", pos, output) || !number_after(line, "'issue_time'", pos, r.issue_s) ||
        !number_after(line, "'first_token_time'", pos, r.first_token_s) ||
        !number_after(line, "'complete_time'", pos, r.complete_s)) {
      throw ConfigError(exp_file.string() +
                        ": a record lacks one of 'output_len', 'issue_time', 'first_token_time', 'complete_time' "
                        "after its 'prompt_len'");
    }
    r.prompt_len = static_cast<std::int64_t>(prompt);
    r.output_len = static_cast<std::int64_t>(output);
    out.push_back(r);
  }
  if (out.empty()) throw ConfigError(exp_file.string() + ": no per-request records ('prompt_len') on line 1");
  return out;
}

PrefillBatchFingerprint fingerprint_prefill_batches(const std::vector<DistServeRecord>& records) {
  std::vector<std::pair<double, std::int64_t>> firsts;  // (first-token time, prompt length)
  firsts.reserve(records.size());
  for (const auto& r : records) firsts.emplace_back(r.first_token_s, r.prompt_len);
  std::sort(firsts.begin(), firsts.end());
  PrefillBatchFingerprint fp;
  std::size_t begin = 0;
  for (std::size_t i = 1; i <= firsts.size(); ++i) {
    if (i < firsts.size() && firsts[i].first - firsts[i - 1].first < kSameStepGapS) continue;
    if (i - begin > 1) {
      std::int64_t sum = 0, longest = 0;
      for (std::size_t j = begin; j < i; ++j) {
        sum += firsts[j].second;
        longest = std::max(longest, firsts[j].second);
      }
      ++fp.batches;
      fp.max_pad_tokens = std::max(fp.max_pad_tokens, static_cast<std::int64_t>(i - begin) * longest - sum);
    }
    begin = i;
  }
  return fp;
}

std::int64_t peak_held_kv_blocks(const std::vector<DistServeRecord>& records, std::int64_t block_size,
                                 double sample_s) {
  if (records.empty() || block_size <= 0 || !(sample_s > 0)) return 0;
  double t0 = records.front().first_token_s, t1 = records.front().complete_s;
  for (const auto& r : records) {
    t0 = std::min(t0, r.first_token_s);
    t1 = std::max(t1, r.complete_s);
  }
  std::int64_t peak = 0;
  // The sampling grid of the published peak figures (t0, t0 + dt, ...) as accumulated: its end is a time
  // bound, not a count, and a 1-ulp drift of t moves no sample across a token boundary that matters.
  // NOLINTNEXTLINE(clang-analyzer-security.FloatLoopCounter)
  for (double t = t0; t < t1; t += sample_s) {
    std::int64_t blocks = 0;
    for (const auto& r : records) {
      if (t < r.first_token_s || t >= r.complete_s) continue;
      // One token at the first-token time, the last at completion, evenly in between.
      const double frac = (t - r.first_token_s) / (r.complete_s - r.first_token_s);
      const auto generated = 1 + static_cast<std::int64_t>(frac * static_cast<double>(r.output_len - 1));
      blocks += (r.prompt_len + generated + block_size - 1) / block_size;
    }
    peak = std::max(peak, blocks);
  }
  return peak;
}

}  // namespace servetwin
