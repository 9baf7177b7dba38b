// What DistServe vLLM runs' per-request records say (sim/validate/distserve_records.hpp): first on a
// hand-made record file, then on the published runs, where the prompt batches tell the runs made with
// the launcher's early max_paddings 524288 (batches far beyond 256 pad tokens) from the later ones (never
// above 256), and the blocks held
// under overload bound the engine's KV capacity.
#include "sim/validate/distserve_records.hpp"

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

TEST(DistServeRecords, GroupsFirstTokensOfOneStep) {
  // 10 and 300 share a step (0.3 ms apart: one output loop); 40 comes 25 ms later (next step);
  // 1000 and 50 share a later step: 2 x 1000 - 1050 = 950 pad tokens.
  const auto path = write_records(
      "hand", "[{'prompt_len': 10, 'output_len': 2, 'issue_time': 1.0, 'first_token_time': 2.0000, "
              "'complete_time': 2.1}, {'prompt_len': 300, 'output_len': 5, 'issue_time': 1.1, "
              "'first_token_time': 2.0003, 'complete_time': 2.5}, {'prompt_len': 40, 'output_len': 3, 'issue_time': "
              "1.5, 'first_token_time': 2.0253, 'complete_time': 2.6}, {'prompt_len': 1000, 'output_len': 2, "
              "'issue_time': 3.0, 'first_token_time': 4.0, 'complete_time': 4.2}, {'prompt_len': 50, "
              "'output_len': 2, 'issue_time': 3.1, 'first_token_time': 4.0004, 'complete_time': 4.3}]");
  const auto records = read_distserve_records(path);
  ASSERT_EQ(records.size(), 5U);
  const PrefillBatchFingerprint fp = fingerprint_prefill_batches(records);
  EXPECT_EQ(fp.batches, 2);
  EXPECT_EQ(fp.max_pad_tokens, 950);
  // Blocks of 16, sampled every 0.25 s from 2.0 s. At 2.25 s: 300 (first token 2.0003, done 2.5:
  // 1 + 0.4994 x 4 = 2 generated, 302 tokens = 19 blocks) and 40 (2.0253-2.6: 1 generated, 41 tokens
  // = 3 blocks) = 22. At 4.0 s: 1000 (4.0-4.2: 1001 tokens = 63 blocks), the peak; 50 starts at 4.0004.
  EXPECT_EQ(peak_held_kv_blocks(records, 16), 63);
  EXPECT_EQ(peak_held_kv_blocks(records, 16, 10.0), 1);  // one sample, at 2.0 s: only 10 runs (11 tokens)

  std::filesystem::remove(path);
}

TEST(DistServeRecords, BadFilesNameTheFile) {
  const auto path = write_records("empty", "[]");
  try {
    (void)read_distserve_records(path);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
  EXPECT_THROW((void)read_distserve_records(kRuns / "no-such-run.exp"), ConfigError);
}

// Published runs. v0.2.2+ admits at most max_paddings = 256 pad tokens per prompt batch
// (vllm_scheduling.md §1.1 c): a run whose batches all stay within it, with many batches, ran that
// rule; one with a batch above it did not.
TEST(DistServeRecords, PublishedRunsSplitIntoTwoEngines) {
  for (const char* run : {"vllm-100-2", "vllm-200-2"}) {
    const auto fp = fingerprint_prefill_batches(read_distserve_records(kRuns / (std::string(run) + ".exp")));
    EXPECT_GT(fp.max_pad_tokens, 256) << run;
  }
  for (const char* run : {"vllm-250-2.5", "vllm-300-3", "vllm-350-3.5", "vllm-400-4"}) {
    const auto fp = fingerprint_prefill_batches(read_distserve_records(kRuns / (std::string(run) + ".exp")));
    EXPECT_GE(fp.batches, 10) << run;
    EXPECT_LE(fp.max_pad_tokens, 256) << run;
  }
}

// KV capacity seen in the most overloaded run (vllm-400-4): under FCFS admission with vLLM V0's 1%
// watermark the head-of-line prompt waits until its blocks (at most 2048 / 16 = 128 for OPT-13B) plus
// the watermark are free, so while it is blocked the running requests hold between
// capacity - 128 - 1% and capacity blocks: peak <= blocks <= (peak + 128) / 0.99. The preset's memory
// model gives 3,957 blocks (gpu_memory_utilization 0.95 from DistServe's 2025 launcher), outside that
// range; vLLM's default 0.90 would give 3,632, inside. Not adopted: the runs that show it are scored
// (docs/calibration.md). This checks the analysis on the published records.
TEST(DistServeRecords, OverloadedRunBoundsTheBlockCount) {
  const auto peak = peak_held_kv_blocks(read_distserve_records(kRuns / "vllm-400-4.exp"), 16);
  EXPECT_GE(peak, 3400);
  EXPECT_LE(peak, 3632);
  EXPECT_LT((static_cast<double>(peak) + 128) / 0.99, 3957.0) << "peak " << peak;
}

}  // namespace
}  // namespace servetwin
