#pragma once
// The catalog's YAML files parsed ahead of interpretation, in parallel (YAML parsing is most of a catalog
// load, and every CLI call loads the catalog). Internal to sim/catalog.
#include <exception>
#include <filesystem>
#include <memory>
#include <vector>

#include "sim/catalog/doc_node.hpp"

namespace servetwin::catalog_detail {

// YAML documents parsed ahead of interpretation; a file that failed to parse keeps its exception,
// rethrown when its turn comes so errors surface in the same order as a sequential load.
class ParsedFiles {
 public:
  using Doc = std::shared_ptr<const yamlx::DocNode>;
  explicit ParsedFiles(std::size_t n) : nodes_(n), errors_(n) {}
  // errors_ is a vector of exception_ptr, sized here, not an exception left unthrown.
  // NOLINTNEXTLINE(bugprone-throw-keyword-missing)
  explicit ParsedFiles(std::vector<yamlx::DocNode> nodes) : errors_(nodes.size()) {
    nodes_.reserve(nodes.size());
    for (auto& n : nodes) nodes_.push_back(std::make_shared<const yamlx::DocNode>(std::move(n)));
  }
  void parse(std::size_t i, const std::filesystem::path& path);
  [[nodiscard]] const Doc& take(std::size_t i) const {
    if (errors_[i]) std::rethrow_exception(errors_[i]);
    return nodes_[i];
  }
  [[nodiscard]] std::vector<yamlx::DocNode> copies() const {
    std::vector<yamlx::DocNode> out;
    out.reserve(nodes_.size());
    for (const auto& n : nodes_) out.push_back(*n);
    return out;
  }

 private:
  std::vector<Doc> nodes_;
  std::vector<std::exception_ptr> errors_;
};

// The folder `Catalog::use_parse_cache` set (empty: no cache).
std::filesystem::path& parse_cache_dir();

// Parses every file, on up to 4 threads; a file's parse error is kept for its turn.
ParsedFiles parse_all(const std::vector<std::filesystem::path>& all);

}  // namespace servetwin::catalog_detail
