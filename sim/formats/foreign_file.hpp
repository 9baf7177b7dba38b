#pragma once
// Shared pieces of the readers and writers of other tools' result files (docs/result-formats.md):
// loading a JSON or YAML file with errors that name it, the per-request helpers every per-request
// format needs (slot assignment for closed loops, request-count windows), and a few statistics in
// the definitions those tools use.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/metrics/request_record.hpp"

namespace servetwin::formats {

// Reads a whole file; throws ConfigError naming it when it cannot be opened or is empty.
std::string read_text_file(const std::filesystem::path& path);

// Parses JSON; Python's json module writes bare Infinity / NaN (vLLM does for an infinite rate),
// which are read as the string "inf" and null. Returns a discarded value on a syntax error.
nlohmann::json parse_json_lenient(const std::string& text);

// Parses YAML (JSON is YAML too) into JSON: scalars that read as integers, numbers or booleans
// become those types, `.inf` becomes the string "inf". Throws ConfigError naming file and line.
nlohmann::json parse_yaml_as_json(const std::string& text, const std::string& file);

// Field access that names file and JSON path when the field is missing or has the wrong type.
const nlohmann::json& require(const nlohmann::json& obj, const char* key, const std::string& file,
                              const std::string& path);
double require_number(const nlohmann::json& obj, const char* key, const std::string& file, const std::string& path);
const nlohmann::json& require_array(const nlohmann::json& obj, const char* key, const std::string& file,
                                    const std::string& path);

// Closed loop without recorded user ids (vLLM --max-concurrency, GuideLLM concurrent streams):
// gives each request the slot (user) that was freed most recently before it was sent, as a
// semaphore hands slots over. Records must be of one stage. Sets user_id in 0..slots-1.
void assign_closed_loop_slots(std::vector<RequestRecord>& records, int slots);

// Request-count window, as `servetwin load` defines it: first send to last finish + 1 ns.
std::pair<TimeNs, TimeNs> request_count_window(const std::vector<RequestRecord>& records);

// Population standard deviation (numpy's np.std default, ddof = 0).
double population_std(const std::vector<double>& values);

// Stable 32-hex-digit id of a text (FNV-1a, then SplitMix64): the llm-d report's run ids.
std::string stable_hex_id(const std::string& text);

}  // namespace servetwin::formats
