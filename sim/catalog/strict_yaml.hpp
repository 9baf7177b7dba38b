#pragma once
// Strict reading of one YAML catalog file. Every mapping is read through a MapReader that is told
// its allowed keys up front, so an unknown key, a missing key, a wrong type, an out-of-range value or
// a number without `source:` fails with `FILE:LINE: key 'KEY': problem; allowed: ...` (ConfigError).
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/catalog/doc_node.hpp"
#include "sim/catalog/specs.hpp"

namespace servetwin::yamlx {

// Physical dimension of a sourced number: selects which `unit:` spellings are accepted and the
// factor that converts them to the unit named by the field (bytes, bytes/s, FLOP/s, ns).
enum class Dim { kNone, kBytes, kBytesPerSecond, kFlops, kNanoseconds };

// Allowed interval for a number; printed in error messages ("> 0", "in (0, 1]", ">= 0").
struct Range {
  double lo = 0;
  bool lo_open = false;
  double hi = 0;
  bool has_hi = false;
  bool hi_open = false;
  [[nodiscard]] bool contains(double v) const;
  [[nodiscard]] std::string describe() const;
  static Range positive() { return {0, true, 0, false, false}; }
  static Range non_negative() { return {0, false, 0, false, false}; }
  static Range fraction() { return {0, true, 1, true, false}; }  // (0, 1]
  static Range between(double lo, double hi) { return {lo, false, hi, true, false}; }
};

// Formats the message every catalog error uses and throws ConfigError.
// `line` is 0-based (as yaml-cpp counts) and printed 1-based; -1 prints line 1.
[[noreturn]] void fail(const std::string& file, int line, const std::string& key, const std::string& problem,
                       const std::string& allowed);

// Converts a document node to JSON for CatalogEntry documents: plain scalars that read as numbers or
// booleans become numbers/booleans, quoted scalars stay strings. Maps keep sorted keys (nlohmann).
nlohmann::json to_json(const DocNode& node);

// Parses YAML text; syntax errors become ConfigError naming `file` (a path or a display name) and the
// parser's line. load_file reads the file and calls load_text, so both give the same errors.
DocNode load_text(const std::string& text, const std::string& file);
DocNode load_file(const std::filesystem::path& file);

class MapReader {
 public:
  // `path` is the key path of this mapping inside the file ("" for the top level), used to name
  // nested keys in errors ("allreduce[1].bus_bw_bytes_s"). The reader keeps a pointer to `node`:
  // the document must outlive it.
  MapReader(const DocNode& node, std::string file, std::string path, std::vector<std::string> allowed_keys,
            int owner_line);

  [[nodiscard]] bool has(const std::string& key) const;
  [[nodiscard]] const DocNode& raw(const std::string& key) const;  // undefined node when absent
  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] std::string key_path(const std::string& key) const;
  [[nodiscard]] int line_of(const std::string& key) const;

  // Plain (unsourced) fields: names, enums, booleans, file paths.
  std::string str(const std::string& key, bool required, const std::string& fallback = "") const;
  std::string enumeration(const std::string& key, const std::vector<std::string>& values,
                          bool required, const std::string& fallback = "") const;
  bool boolean(const std::string& key, bool required, bool fallback = false) const;
  std::vector<std::string> string_list(const std::string& key) const;  // optional, [] when absent
  int plain_int(const std::string& key, const Range& range, bool required, int fallback = 0) const;

  // Sourced numbers: `{value: X, source: "...", unit: U (optional), note: "..." (optional)}`.
  double sourced(const std::string& key, const Range& range, Dim dim, bool required,
                 double fallback = 0) const;
  int sourced_int(const std::string& key, const Range& range, bool required, int fallback = 0) const;
  // Cost-model parameter: `{value: X, provenance: datasheet|fitted|measured|assumed, source: "..."}`.
  Param param(const std::string& key, const Range& range, Dim dim) const;

  // Nested mapping reader for `key` (must be a mapping).
  MapReader child(const std::string& key, std::vector<std::string> allowed_keys) const;
  // Sequence of mappings under `key`; each element read with `allowed_keys`.
  std::vector<MapReader> child_list(const std::string& key, const std::vector<std::string>& allowed_keys,
                                    bool required) const;
  // Keys of a free-form mapping (e.g. engine settings), in file order.
  std::vector<std::string> keys() const;

  [[noreturn]] void fail_at(const std::string& key, const std::string& problem,
                            const std::string& allowed) const;

 private:
  // `value` (+ optional `unit`) of a sourced-number mapping, converted and range-checked.
  [[nodiscard]] double value_in_range(const Range& range, Dim dim) const;
  [[nodiscard]] double number_at(const DocNode& value, const std::string& key_path) const;
  const DocNode* node_;
  std::string file_;
  std::string path_;
  std::vector<std::string> allowed_;
  int line_ = -1;
};

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");
std::string lower(std::string s);

}  // namespace servetwin::yamlx
