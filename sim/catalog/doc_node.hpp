#pragma once
// The catalog's in-memory YAML document: a plain value tree (map entries in file order, scalars
// with their text, whether they were quoted, and their line). The strict reader (strict_yaml.hpp)
// and the parse cache work on this instead of yaml-cpp's Node, whose per-node shared_ptr
// bookkeeping made rebuilding the ~90 cached catalog files cost more than parsing them.
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace servetwin::yamlx {

class DocNode {
 public:
  enum class Type : unsigned char { kUndefined, kNull, kScalar, kMap, kSequence };

  DocNode() = default;  // undefined: what a lookup of an absent key returns
  static DocNode null(int line) { return DocNode(Type::kNull, line); }
  static DocNode scalar(std::string text, bool quoted, int line) {
    DocNode n(Type::kScalar, line);
    n.text_ = std::move(text);
    n.quoted_ = quoted;
    return n;
  }
  static DocNode map(int line) { return DocNode(Type::kMap, line); }
  static DocNode sequence(int line) { return DocNode(Type::kSequence, line); }

  [[nodiscard]] Type type() const { return type_; }
  [[nodiscard]] bool is_defined() const { return type_ != Type::kUndefined; }
  [[nodiscard]] bool is_null() const { return type_ == Type::kNull; }
  [[nodiscard]] bool is_scalar() const { return type_ == Type::kScalar; }
  [[nodiscard]] bool is_map() const { return type_ == Type::kMap; }
  [[nodiscard]] bool is_sequence() const { return type_ == Type::kSequence; }
  // A scalar written without quotes (only those may read as numbers or booleans).
  [[nodiscard]] bool is_plain_scalar() const { return type_ == Type::kScalar && !quoted_; }
  [[nodiscard]] bool quoted() const { return quoted_; }
  [[nodiscard]] const std::string& text() const { return text_; }  // "" unless a scalar
  // 0-based line of the node in its file (as yaml-cpp counts); -1 when unknown.
  [[nodiscard]] int line() const { return line_; }

  // Map entries in file order (keys are scalars in every catalog file; the reader checks).
  [[nodiscard]] const std::vector<std::pair<DocNode, DocNode>>& entries() const { return entries_; }
  [[nodiscard]] const std::vector<DocNode>& items() const { return items_; }
  // The value under `key` of a map, or an undefined node.
  [[nodiscard]] const DocNode& at(std::string_view key) const;

  void add_entry(DocNode key, DocNode value) { entries_.emplace_back(std::move(key), std::move(value)); }
  void add_item(DocNode item) { items_.push_back(std::move(item)); }
  void reserve(std::size_t n) {
    if (type_ == Type::kMap) entries_.reserve(n);
    else items_.reserve(n);
  }

 private:
  DocNode(Type t, int line) : type_(t), line_(line) {}
  Type type_ = Type::kUndefined;
  bool quoted_ = false;
  int line_ = -1;
  std::string text_;
  std::vector<std::pair<DocNode, DocNode>> entries_;
  std::vector<DocNode> items_;
};

// Converts a parsed yaml-cpp document (quoted scalars carry yaml-cpp's "!" tag).
DocNode from_yaml(const YAML::Node& node);

}  // namespace servetwin::yamlx
