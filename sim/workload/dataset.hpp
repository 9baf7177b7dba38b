#pragma once
// Prompt datasets in llm-load-test's formats (../shared/datasets/README.md):
//  - v1 JSON: {"dataset": [{id, input: {text, min_new_tokens, max_new_tokens}, prompt_len, response_len}]}.
//    `prompt_len` came from an unknown non-Llama tokenizer; a sibling `<stem>.llama2-token-counts.csv`
//    holds exact Llama-2 counts (BOS included), used when the served model has the llama2 tokenizer.
//  - v2 JSONL: line 1 metadata, then {index, question, system_prompt, tok_input_length, tok_output_length}.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace servetwin {

struct PromptSample {
  std::string id;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;  // v1: min_new_tokens = max_new_tokens; v2: tok_output_length
  std::string text;                // prompt text as sent (system prompt + question)
  // What a live run asks the server for (v1: the file's min/max_new_tokens; v2: both
  // tok_output_length). The simulator uses output_tokens.
  std::int64_t min_new_tokens = 0;
  std::int64_t max_new_tokens = 0;
};

struct Dataset {
  std::string name;
  std::string format;              // "llm-load-test-v1" | "llm-load-test-v2"
  std::string token_count_source;  // which counts input_tokens uses
  std::vector<PromptSample> samples;
};

// Detects the format from the content. `tokenizer` is the model's tokenizer family ("llama2", ...):
// for v1 files with a llama2 counts sibling and tokenizer == "llama2", those counts are used.
// Throws ConfigError naming the file, entry and field on malformed input.
Dataset load_dataset(const std::filesystem::path& path, const std::string& tokenizer);
// The same from the file's content (load_dataset calls this): `path` names it in errors, gives the
// default name (its stem) and locates a v1 file's llama2 counts sibling (read when it exists).
Dataset parse_dataset(const std::string& content, const std::filesystem::path& path, const std::string& tokenizer);

}  // namespace servetwin
