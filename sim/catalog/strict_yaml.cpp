#include "sim/catalog/strict_yaml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace servetwin::yamlx {
namespace {

struct UnitFactor {
  const char* name;
  double factor;
};

// Accepted `unit:` spellings per dimension, with the factor to the field's own unit.
const std::vector<UnitFactor>& units_for(Dim dim) {
  static const std::vector<UnitFactor> none{};
  static const std::vector<UnitFactor> bytes{{"B", 1},          {"KB", 1e3},
                                             {"MB", 1e6},       {"GB", 1e9},
                                             {"TB", 1e12},      {"KiB", 1024.0},
                                             {"MiB", 1048576.0}, {"GiB", 1073741824.0},
                                             {"TiB", 1099511627776.0}};
  static const std::vector<UnitFactor> bandwidth{{"B/s", 1},    {"MB/s", 1e6},
                                                 {"GB/s", 1e9}, {"TB/s", 1e12},
                                                 {"GiB/s", 1073741824.0}};
  static const std::vector<UnitFactor> flops{
      {"FLOPS", 1}, {"GFLOPS", 1e9}, {"TFLOPS", 1e12}, {"PFLOPS", 1e15}};
  static const std::vector<UnitFactor> time{{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
  switch (dim) {
    case Dim::kBytes: return bytes;
    case Dim::kBytesPerSecond: return bandwidth;
    case Dim::kFlops: return flops;
    case Dim::kNanoseconds: return time;
    case Dim::kNone: break;
  }
  return none;
}

std::string unit_names(Dim dim) {
  std::vector<std::string> names;
  for (const auto& u : units_for(dim)) names.emplace_back(u.name);
  return names.empty() ? std::string("no unit (plain number)") : join(names);
}

// Parses a whole scalar as a finite double; false when it is not one.
bool parse_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (*first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last && std::isfinite(out);
}

std::string fmt_number(double v) { return fmt::format("{}", v); }

const char* kSourcedForm = "{value: <number>, source: \"<reference file + section | URL | assumed: why>\"}";

}  // namespace

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return s;
}

bool Range::contains(double v) const {
  if (lo_open ? !(v > lo) : !(v >= lo)) return false;
  if (has_hi && (hi_open ? !(v < hi) : !(v <= hi))) return false;
  return true;
}

std::string Range::describe() const {
  if (!has_hi) return fmt::format("{} {}", lo_open ? ">" : ">=", fmt_number(lo));
  return fmt::format("{}{}, {}{}", lo_open ? "(" : "[", fmt_number(lo), fmt_number(hi),
                     hi_open ? ")" : "]");
}

void fail(const std::string& file, int line, const std::string& key, const std::string& problem,
          const std::string& allowed) {
  throw ConfigError(
      fmt::format("{}:{}: key '{}': {}; allowed: {}", file, line >= 0 ? line + 1 : 1, key, problem, allowed));
}

nlohmann::json to_json(const DocNode& node) {
  switch (node.type()) {
    case DocNode::Type::kMap: {
      nlohmann::json obj = nlohmann::json::object();
      for (const auto& [k, v] : node.entries()) obj[k.text()] = to_json(v);
      return obj;
    }
    case DocNode::Type::kSequence: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& item : node.items()) arr.push_back(to_json(item));
      return arr;
    }
    case DocNode::Type::kScalar: {
      const std::string& s = node.text();
      if (!node.is_plain_scalar()) return s;
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      double d = 0;
      if (parse_double(s, d)) {
        // Integers written as integers stay integers in the document (no "32.0" for layers).
        if (s.find_first_of(".eE") == std::string::npos && std::fabs(d) < 9e15) {
          return static_cast<std::int64_t>(d);
        }
        return d;
      }
      return s;
    }
    case DocNode::Type::kNull:
    case DocNode::Type::kUndefined: break;
  }
  return nullptr;
}

DocNode load_text(const std::string& text, const std::string& file) {
  try {
    return from_yaml(YAML::Load(text));
  } catch (const YAML::ParserException& e) {
    fail(file, e.mark.line, "(syntax)", "YAML syntax error: " + e.msg, "valid YAML 1.2");
  }
}

DocNode load_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    throw ConfigError(fmt::format("{}:1: key '(file)': cannot read file; allowed: a readable *.yaml file",
                                  file.string()));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_text(text.str(), file.string());
}

MapReader::MapReader(const DocNode& node, std::string file, std::string path, std::vector<std::string> allowed_keys,
                     int owner_line)
    : node_(&node), file_(std::move(file)), path_(std::move(path)), allowed_(std::move(allowed_keys)),
      line_(owner_line) {
  const std::string where = path_.empty() ? std::string("(document)") : path_;
  if (!node_->is_map()) {
    fail(file_, node_->is_defined() && !node_->is_null() ? node_->line() : line_, where, "expected a mapping",
         "a mapping with keys " + join(allowed_));
  }
  line_ = node_->line();
  std::set<std::string, std::less<>> seen;
  for (const auto& [key, value] : node_->entries()) {
    if (!key.is_scalar()) fail(file_, key.line(), where, "mapping keys must be plain names", join(allowed_));
    const std::string& k = key.text();
    if (!seen.insert(k).second) fail(file_, key.line(), key_path(k), "duplicate key", "each key once");
    if (std::find(allowed_.begin(), allowed_.end(), k) == allowed_.end()) {
      fail(file_, key.line(), key_path(k), "unknown key", join(allowed_));
    }
  }
}

bool MapReader::has(const std::string& key) const { return node_->at(key).is_defined(); }

const DocNode& MapReader::raw(const std::string& key) const { return node_->at(key); }

std::string MapReader::key_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

int MapReader::line_of(const std::string& key) const {
  for (const auto& [k, v] : node_->entries()) {
    if (k.text() == key) return v.is_null() ? k.line() : v.line();
  }
  return line_;
}

void MapReader::fail_at(const std::string& key, const std::string& problem,
                        const std::string& allowed) const {
  fail(file_, line_of(key), key_path(key), problem, allowed);
}

std::string MapReader::str(const std::string& key, bool required, const std::string& fallback) const {
  if (!has(key)) {
    if (required) fail(file_, line_, key_path(key), "missing required key", "a string");
    return fallback;
  }
  const DocNode& n = raw(key);
  if (!n.is_scalar()) fail_at(key, "expected a string", "a string");
  return n.text();
}

std::string MapReader::enumeration(const std::string& key, const std::vector<std::string>& values,
                                   bool required, const std::string& fallback) const {
  if (!has(key)) {
    if (required) fail(file_, line_, key_path(key), "missing required key", join(values));
    return fallback;
  }
  const DocNode& n = raw(key);
  if (!n.is_scalar()) fail_at(key, "expected one of the listed names", join(values));
  if (std::find(values.begin(), values.end(), n.text()) == values.end()) {
    fail_at(key, fmt::format("bad value '{}'", n.text()), join(values));
  }
  return n.text();
}

bool MapReader::boolean(const std::string& key, bool required, bool fallback) const {
  if (!has(key)) {
    if (required) fail(file_, line_, key_path(key), "missing required key", "true, false");
    return fallback;
  }
  const DocNode& n = raw(key);
  if (!n.is_plain_scalar() || (n.text() != "true" && n.text() != "false")) {
    fail_at(key, fmt::format("expected a boolean, got '{}'", n.is_scalar() ? n.text() : "(not a scalar)"),
            "true, false");
  }
  return n.text() == "true";
}

std::vector<std::string> MapReader::string_list(const std::string& key) const {
  std::vector<std::string> out;
  if (!has(key)) return out;
  const DocNode& n = raw(key);
  if (!n.is_sequence()) fail_at(key, "expected a list of strings", "[\"a\", \"b\"]");
  for (const auto& item : n.items()) {
    if (!item.is_scalar()) fail(file_, item.line(), key_path(key), "expected a string item", "strings");
    out.push_back(item.text());
  }
  return out;
}

double MapReader::number_at(const DocNode& value, const std::string& path) const {
  double d = 0;
  if (!value.is_plain_scalar() || !parse_double(value.text(), d)) {
    fail(file_, value.line(), path,
         fmt::format("expected a number, got '{}'", value.is_scalar() ? value.text() : "(not a scalar)"),
         "a finite number such as 600e9 or 1.212");
  }
  return d;
}

int MapReader::plain_int(const std::string& key, const Range& range, bool required, int fallback) const {
  if (!has(key)) {
    if (required) fail(file_, line_, key_path(key), "missing required key", "an integer " + range.describe());
    return fallback;
  }
  const double d = number_at(raw(key), key_path(key));
  if (d != std::floor(d) || std::fabs(d) > 2e9) fail_at(key, "expected an integer", range.describe());
  if (!range.contains(d)) fail_at(key, fmt::format("value {} out of range", d), range.describe());
  return static_cast<int>(d);
}

double MapReader::sourced(const std::string& key, const Range& range, Dim dim, bool required,
                          double fallback) const {
  if (!has(key)) {
    if (required) fail(file_, line_, key_path(key), "missing required key", kSourcedForm);
    return fallback;
  }
  const DocNode& n = raw(key);
  if (n.is_scalar()) fail_at(key, "number without source", kSourcedForm);
  const MapReader m(n, file_, key_path(key), {"value", "source", "unit", "note"}, line_of(key));
  if (!m.has("value")) fail(file_, m.line_, m.key_path("value"), "missing required key", kSourcedForm);
  if (!m.has("source")) fail(file_, m.line_, key_path(key), "number without source", kSourcedForm);
  const std::string source = m.str("source", true);
  std::string trimmed = source;
  trimmed.erase(0, trimmed.find_first_not_of(" \t"));
  if (trimmed.empty()) m.fail_at("source", "empty source", kSourcedForm);
  if (lower(trimmed).rfind("assumed", 0) == 0) {
    const auto colon = trimmed.find(':');
    if (colon == std::string::npos || trimmed.size() - colon < 4) {
      m.fail_at("source", "an assumption must say why", "\"assumed: <why>\"");
    }
  }
  return m.value_in_range(range, dim);
}

double MapReader::value_in_range(const Range& range, Dim dim) const {
  const double written = number_at(raw("value"), key_path("value"));
  double v = written;
  std::string unit;
  if (has("unit")) {
    unit = str("unit", true);
    const auto& table = units_for(dim);
    const auto it = std::find_if(table.begin(), table.end(), [&](const UnitFactor& u) { return unit == u.name; });
    if (it == table.end()) fail_at("unit", fmt::format("bad unit '{}'", unit), unit_names(dim));
    v *= it->factor;
  }
  if (!range.contains(v)) {
    // Report the value as written; a non-zero bound is in the field's own unit (named by the key).
    fail_at("value", fmt::format("value {}{} out of range", written, unit.empty() ? "" : " " + unit),
            range.describe() + (unit.empty() || (range.lo == 0 && !range.has_hi) ? "" : " (in the key's unit)"));
  }
  return v;
}

int MapReader::sourced_int(const std::string& key, const Range& range, bool required, int fallback) const {
  const double d = sourced(key, range, Dim::kNone, required, fallback);
  if (d != std::floor(d) || std::fabs(d) > 2e9) {
    fail_at(key, fmt::format("expected an integer, got {}", d), "an integer " + range.describe());
  }
  return static_cast<int>(d);
}

Param MapReader::param(const std::string& key, const Range& range, Dim dim) const {
  static const std::vector<std::string> provenances{"datasheet", "fitted", "measured", "assumed"};
  const char* form = "{value: <number>, provenance: datasheet|fitted|measured|assumed, source: \"...\"}";
  if (!has(key)) fail(file_, line_, key_path(key), "missing required key", form);
  const DocNode& n = raw(key);
  if (n.is_scalar()) fail_at(key, "number without provenance and source", form);
  const MapReader m(n, file_, key_path(key), {"value", "provenance", "source", "unit", "note"}, line_of(key));
  Param p;
  p.provenance = m.enumeration("provenance", provenances, true);
  if (!m.has("source")) fail(file_, m.line_, key_path(key), "number without source", form);
  p.source = m.str("source", true);
  if (p.source.find_first_not_of(" \t") == std::string::npos) m.fail_at("source", "empty source", form);
  if (!m.has("value")) fail(file_, m.line_, m.key_path("value"), "missing required key", form);
  p.value = m.value_in_range(range, dim);
  return p;
}

MapReader MapReader::child(const std::string& key, std::vector<std::string> allowed_keys) const {
  if (!has(key)) fail(file_, line_, key_path(key), "missing required key", "a mapping with keys " + join(allowed_keys));
  return MapReader(raw(key), file_, key_path(key), std::move(allowed_keys), line_of(key));
}

std::vector<MapReader> MapReader::child_list(const std::string& key, const std::vector<std::string>& allowed_keys,
                                             bool required) const {
  std::vector<MapReader> out;
  if (!has(key)) {
    if (required) fail(file_, line_, key_path(key), "missing required key", "a list of mappings");
    return out;
  }
  const DocNode& n = raw(key);
  if (n.is_null()) return out;
  if (!n.is_sequence()) fail_at(key, "expected a list", "a list of mappings with keys " + join(allowed_keys));
  std::size_t i = 0;
  for (const auto& item : n.items()) {
    out.emplace_back(item, file_, fmt::format("{}[{}]", key_path(key), i), allowed_keys, n.line());
    ++i;
  }
  return out;
}

std::vector<std::string> MapReader::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : node_->entries()) out.push_back(k.text());
  return out;
}

}  // namespace servetwin::yamlx
