#include "sim/workload/dataset.hpp"

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sim/catalog/catalog.hpp"
#include "sim/core/limits.hpp"
#include "sim/core/parse_number.hpp"
#include "sim/core/path_check.hpp"

namespace servetwin {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot open dataset file", p.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A token count: a JSON integer in limits::kTokensPerRequest.
std::int64_t positive_int(const nlohmann::json& obj, const char* key, const std::string& where) {
  const auto& lim = limits::kTokensPerRequest;
  if (!obj.contains(key) || !obj[key].is_number_integer() ||
      !limit_violation(static_cast<double>(obj[key].get<std::int64_t>()), lim).empty()) {
    throw ConfigError(fmt::format("{}: field '{}' must be {}", where, key, describe_limit(lim)));
  }
  return obj[key].get<std::int64_t>();
}

// An optional string field; ConfigError when present with another type.
std::string string_field(const nlohmann::json& obj, const char* key, const std::string& fallback,
                         const std::string& where) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_string()) throw ConfigError(fmt::format("{}: field '{}' must be a string", where, key));
  return obj[key].get<std::string>();
}

// Reads `id,llama2_input_tokens_with_bos,...` into id -> count.
std::map<std::string, std::int64_t> read_llama2_counts(const std::filesystem::path& csv) {
  std::map<std::string, std::int64_t> counts;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const auto c1 = line.find(',');
    const auto c2 = line.find(',', c1 + 1);
    std::int64_t n = 0;
    if (c1 == std::string::npos || c2 == std::string::npos || !parse_int64(line.substr(c1 + 1, c2 - c1 - 1), n) ||
        !limit_violation(static_cast<double>(n), limits::kTokensPerRequest).empty()) {
      throw ConfigError(fmt::format("{}:{}: expected id,llama2_input_tokens_with_bos,... with the count {}", csv.string(),
                                    line_no, describe_limit(limits::kTokensPerRequest)));
    }
    counts[line.substr(0, c1)] = n;
  }
  return counts;
}

Dataset load_v1(const std::filesystem::path& path, const nlohmann::json& doc, const std::string& tokenizer) {
  Dataset ds;
  ds.format = "llm-load-test-v1";
  ds.name = path.stem().string();
  if (doc.contains("metadata") && doc["metadata"].is_object()) {
    ds.name = string_field(doc["metadata"], "name", ds.name, path.string() + ": metadata");
  }
  const auto counts_path = path.parent_path() / (path.stem().string() + ".llama2-token-counts.csv");
  std::map<std::string, std::int64_t> llama2;
  if (tokenizer == "llama2" && check_path(counts_path).exists) {
    llama2 = read_llama2_counts(counts_path);
    ds.token_count_source = "llama2 tokenizer counts (" + counts_path.filename().string() + ")";
  } else {
    ds.token_count_source = "file prompt_len (tokenizer unknown; about 11% below Llama-2 counts)";
  }
  std::size_t i = 0;
  for (const auto& e : doc.at("dataset")) {
    const std::string where = fmt::format("{}: dataset[{}]", path.string(), i++);
    PromptSample s;
    if (!e.is_object()) throw ConfigError(where + ": must be an object");
    s.id = string_field(e, "id", fmt::format("{}", i - 1), where);
    if (!e.contains("input") || !e["input"].is_object()) throw ConfigError(where + ": missing object 'input'");
    const auto& in = e["input"];
    s.text = string_field(in, "text", "", where + ".input");
    const auto max_new = positive_int(in, "max_new_tokens", where + ".input");
    std::int64_t min_new = 0;
    if (in.contains("min_new_tokens")) {
      if (!in["min_new_tokens"].is_number_integer() || in["min_new_tokens"].get<std::int64_t>() < 0) {
        throw ConfigError(where + ".input: field 'min_new_tokens' must be an integer >= 0");
      }
      min_new = in["min_new_tokens"].get<std::int64_t>();
    }
    // llm-load-test v1 sets min == max so the output length is fixed; otherwise the dataset's
    // response_len is the best estimate of what the model would generate.
    s.output_tokens = min_new == max_new || !e.contains("response_len") ? max_new : positive_int(e, "response_len", where);
    if (min_new > max_new) throw ConfigError(where + ".input: 'min_new_tokens' must be <= 'max_new_tokens'");
    s.min_new_tokens = min_new;
    s.max_new_tokens = max_new;
    if (!llama2.empty()) {
      const auto it = llama2.find(s.id);
      if (it == llama2.end()) throw ConfigError(fmt::format("{}: id '{}' missing from {}", where, s.id, counts_path.string()));
      s.input_tokens = it->second;
    } else {
      s.input_tokens = positive_int(e, "prompt_len", where);
    }
    ds.samples.push_back(std::move(s));
  }
  return ds;
}

Dataset load_v2(const std::filesystem::path& path, const std::string& content) {
  Dataset ds;
  ds.format = "llm-load-test-v2";
  ds.token_count_source = "tok_input_length";
  std::istringstream lines(content);
  std::string line;
  int line_no = 0;
  while (std::getline(lines, line)) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
      throw ConfigError(fmt::format("{}:{}: invalid JSON: {}", path.string(), line_no, e.what()));
    }
    if (line_no == 1) {  // metadata line, skipped as llm-load-test v2 does
      ds.name = j.is_object() ? string_field(j, "name", path.stem().string(), fmt::format("{}:1", path.string()))
                              : path.stem().string();
      continue;
    }
    const std::string where = fmt::format("{}:{}", path.string(), line_no);
    if (!j.is_object()) throw ConfigError(where + ": expected a JSON object per line");
    PromptSample s;
    s.id = j.contains("index") ? j["index"].dump() : fmt::format("{}", line_no - 2);
    s.input_tokens = positive_int(j, "tok_input_length", where);
    s.output_tokens = positive_int(j, "tok_output_length", where);
    s.min_new_tokens = s.max_new_tokens = s.output_tokens;
    const std::string sys = string_field(j, "system_prompt", "", where);
    const std::string question = string_field(j, "question", "", where);
    s.text = sys;
    if (!sys.empty()) s.text += "\n\n";
    s.text += question;
    ds.samples.push_back(std::move(s));
  }
  return ds;
}

}  // namespace

Dataset load_dataset(const std::filesystem::path& path, const std::string& tokenizer) {
  return parse_dataset(read_file(path), path, tokenizer);
}

Dataset parse_dataset(const std::string& content, const std::filesystem::path& path, const std::string& tokenizer) {
  Dataset ds;
  // v1 is one JSON document with a "dataset" array; v2 (JSONL) does not parse as one document.
  const nlohmann::json doc = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded() && doc.is_object() && doc.contains("dataset")) {
    if (!doc["dataset"].is_array()) {
      throw ConfigError(fmt::format("{}: key 'dataset' must be an array (llm-load-test v1 format)", path.string()));
    }
    ds = load_v1(path, doc, tokenizer);
  } else {
    ds = load_v2(path, content);
  }
  if (ds.samples.empty()) throw ConfigError(fmt::format("{}: dataset has no samples", path.string()));
  return ds;
}

}  // namespace servetwin
