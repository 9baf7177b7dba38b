#pragma once
// llm-load-test dataset readers (v1 JSON and v2 JSONL; formats in ../shared/datasets/README.md).
// Written here because sim/workload/ had no shared dataset reader when the live runner was built;
// if one appears there, this should delegate to it.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace servetwin::live {

struct DatasetEntry {
  std::string id;                   // v1 `id`, v2 `index`
  std::string text;                 // the prompt sent to the server
  std::int64_t input_tokens = 0;    // the dataset's own count (prompt_len / tok_input_length)
  std::int64_t min_new_tokens = 0;
  std::int64_t max_new_tokens = 0;
};

struct Dataset {
  std::string format;  // "llm-load-test-v1-json" | "llm-load-test-v2-jsonl"
  std::string name;
  std::vector<DatasetEntry> entries;
};

// Detects the format from the content (a JSON object with `dataset` = v1; lines = v2, first line
// metadata). v2 prompt = "{system_prompt}\n\n{question}" when system_prompt is non-empty, else
// the question. Throws std::runtime_error naming the file and line on malformed input.
Dataset read_dataset(const std::filesystem::path& path);

// The order in which a user walks the dataset: a Fisher-Yates shuffle driven by Boost.Random
// (portable across standard libraries) from make_rng(seed, "dataset-order", user).
std::vector<std::size_t> dataset_order(std::size_t n, std::uint64_t seed, std::uint64_t user);

}  // namespace servetwin::live
