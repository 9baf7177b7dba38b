// The prompt-batching fingerprint of a DistServe vLLM run (sim/validate/prefill_batch_fingerprint.hpp):
// first on a hand-made record file, then on the published runs, where it tells the v0.1.7 runs
// (batches far beyond 256 pad tokens) from the v0.2.3 ones (never above 256).
#include "sim/validate/prefill_batch_fingerprint.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "sim/catalog/catalog.hpp"

namespace servetwin {
namespace {

const std::filesystem::path kRuns =
    std::filesystem::path(SERVETWIN_SHARED_DIR) / "validation" / "distserve" / "opt-13b-sharegpt";

std::filesystem::path write_records(const std::string& name, const std::string& line1) {
  const auto path = std::filesystem::temp_directory_path() / ("servetwin-fp-" + name + ".exp");
  std::ofstream(path) << line1 << "\n{ num_requests: 3 }";
  return path;
}

TEST(PrefillBatchFingerprint, GroupsFirstTokensOfOneStep) {
  // 10 and 300 share a step (0.3 ms apart: one output loop); 40 comes 25 ms later (next step);
  // 1000 and 50 share a later step: 2 x 1000 - 1050 = 950 pad tokens.
  const auto path = write_records(
      "hand", "[{'prompt_len': 10, 'output_len': 2, 'issue_time': 1.0, 'first_token_time': 2.0000, "
              "'complete_time': 2.1}, {'prompt_len': 300, 'output_len': 5, 'issue_time': 1.1, "
              "'first_token_time': 2.0003, 'complete_time': 2.5}, {'prompt_len': 40, 'output_len': 3, 'issue_time': "
              "1.5, 'first_token_time': 2.0253, 'complete_time': 2.6}, {'prompt_len': 1000, 'output_len': 2, "
              "'issue_time': 3.0, 'first_token_time': 4.0, 'complete_time': 4.2}, {'prompt_len': 50, "
              "'output_len': 2, 'issue_time': 3.1, 'first_token_time': 4.0004, 'complete_time': 4.3}]");
  const PrefillBatchFingerprint fp = fingerprint_prefill_batches(path);
  EXPECT_EQ(fp.batches, 2);
  EXPECT_EQ(fp.max_pad_tokens, 950);
  std::filesystem::remove(path);
}

TEST(PrefillBatchFingerprint, BadFilesNameTheFile) {
  const auto path = write_records("empty", "[]");
  try {
    (void)fingerprint_prefill_batches(path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
  EXPECT_THROW((void)fingerprint_prefill_batches(kRuns / "no-such-run.exp"), ConfigError);
}

// Published runs. v0.2.2+ admits at most max_paddings = 256 pad tokens per prompt batch
// (vllm_scheduling.md §1.1 c): a run whose batches all stay within it, with many batches, ran that
// rule; one with a batch above it did not.
TEST(PrefillBatchFingerprint, PublishedRunsSplitIntoTwoEngines) {
  for (const char* run : {"vllm-100-2", "vllm-200-2"}) {
    const auto fp = fingerprint_prefill_batches(kRuns / (std::string(run) + ".exp"));
    EXPECT_GT(fp.max_pad_tokens, 256) << run;
  }
  for (const char* run : {"vllm-250-2.5", "vllm-300-3", "vllm-350-3.5", "vllm-400-4"}) {
    const auto fp = fingerprint_prefill_batches(kRuns / (std::string(run) + ".exp"));
    EXPECT_GE(fp.batches, 10) << run;
    EXPECT_LE(fp.max_pad_tokens, 256) << run;
  }
}

}  // namespace
}  // namespace servetwin
