#include "sim/validate/prefill_batch_fingerprint.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

namespace {

// The number after `'key': ` at or after `from`; npos-safe. Line 1 of the file is a Python literal
// list of flat dicts, so a key's next occurrence belongs to the same record as the previous key's.
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

PrefillBatchFingerprint fingerprint_prefill_batches(const std::filesystem::path& exp_file) {
  std::ifstream in(exp_file);
  std::string line;
  if (!in || !std::getline(in, line)) throw ConfigError(exp_file.string() + ": cannot read the per-request records");
  // (first_token_time, prompt_len) per record.
  std::vector<std::pair<double, std::int64_t>> firsts;
  std::size_t pos = 0;
  for (;;) {
    std::size_t at = pos;
    double len = 0, first = 0;
    if (!number_after(line, "'prompt_len'", at, len)) break;
    std::size_t t = at;
    if (!number_after(line, "'first_token_time'", t, first)) {
      throw ConfigError(exp_file.string() + ": a record has 'prompt_len' but no 'first_token_time'");
    }
    firsts.emplace_back(first, static_cast<std::int64_t>(len));
    pos = t;
  }
  if (firsts.empty()) throw ConfigError(exp_file.string() + ": no per-request records ('prompt_len') on line 1");
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

}  // namespace servetwin
