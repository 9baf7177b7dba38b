#include "live/load/dataset.hpp"

#include <boost/random/uniform_int_distribution.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "sim/core/rng.hpp"

namespace servetwin::live {
namespace {

std::int64_t get_int(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_number_integer()) {
    throw std::runtime_error(where + ": missing or non-integer field '" + key + "'");
  }
  return j[key].get<std::int64_t>();
}

std::string get_str(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key) || !j[key].is_string()) {
    throw std::runtime_error(where + ": missing or non-string field '" + key + "'");
  }
  return j[key].get<std::string>();
}

std::string id_string(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

Dataset read_v1(const nlohmann::json& doc, const std::string& file) {
  Dataset d;
  d.format = "llm-load-test-v1-json";
  if (doc.contains("metadata") && doc["metadata"].contains("name")) d.name = doc["metadata"]["name"].dump();
  const auto& arr = doc["dataset"];
  if (!arr.is_array()) throw std::runtime_error(file + ": 'dataset' is not an array");
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const auto& e = arr[i];
    const std::string where = file + ": dataset[" + std::to_string(i) + "]";
    if (!e.contains("input") || !e["input"].is_object()) throw std::runtime_error(where + ": missing 'input' object");
    DatasetEntry x;
    x.id = e.contains("id") ? id_string(e["id"]) : std::to_string(i);
    x.text = get_str(e["input"], "text", where + ".input");
    x.min_new_tokens = get_int(e["input"], "min_new_tokens", where + ".input");
    x.max_new_tokens = get_int(e["input"], "max_new_tokens", where + ".input");
    x.input_tokens = e.contains("prompt_len") ? get_int(e, "prompt_len", where) : 0;
    d.entries.push_back(std::move(x));
  }
  return d;
}

Dataset read_v2(std::istream& in, const std::string& file) {
  Dataset d;
  d.format = "llm-load-test-v2-jsonl";
  std::string line;
  std::size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file + ":" + std::to_string(lineno);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw std::runtime_error(where + ": invalid JSON: " + e.what());
    }
    if (lineno == 1) {  // metadata line, skipped as llm-load-test does
      if (j.contains("name") && j["name"].is_string()) d.name = j["name"].get<std::string>();
      continue;
    }
    DatasetEntry x;
    x.id = j.contains("index") ? id_string(j["index"]) : std::to_string(lineno - 2);
    const std::string q = get_str(j, "question", where);
    const std::string sys = j.contains("system_prompt") && j["system_prompt"].is_string()
                                ? j["system_prompt"].get<std::string>() : std::string();
    x.text = sys.empty() ? q : sys + "\n\n" + q;
    x.input_tokens = get_int(j, "tok_input_length", where);
    x.max_new_tokens = x.min_new_tokens = get_int(j, "tok_output_length", where);
    d.entries.push_back(std::move(x));
  }
  return d;
}

}  // namespace

Dataset read_dataset(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open dataset " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string content = ss.str();
  const std::string file = path.string();
  // v1 is one JSON object with a `dataset` array; anything else is read as JSONL.
  Dataset d;
  bool parsed_v1 = false;
  if (const auto first = content.find_first_not_of(" \t\r\n"); first != std::string::npos && content[first] == '{') {
    nlohmann::json doc = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_discarded() && doc.is_object() && doc.contains("dataset")) {
      d = read_v1(doc, file);
      parsed_v1 = true;
    }
  }
  if (!parsed_v1) {
    std::istringstream lines(content);
    d = read_v2(lines, file);
  }
  if (d.entries.empty()) throw std::runtime_error(file + ": dataset has no requests");
  for (const auto& e : d.entries) {
    if (e.max_new_tokens < 0 || e.min_new_tokens < 0 || e.min_new_tokens > e.max_new_tokens) {
      throw std::runtime_error(file + ": entry '" + e.id + "' has invalid min/max new tokens");
    }
  }
  return d;
}

std::vector<std::size_t> dataset_order(std::size_t n, std::uint64_t seed, std::uint64_t user) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  auto rng = make_rng(seed, "dataset-order", user);
  for (std::size_t i = n; i > 1; --i) {
    boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
    std::swap(order[i - 1], order[pick(rng)]);
  }
  return order;
}

}  // namespace servetwin::live
