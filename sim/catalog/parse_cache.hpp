#pragma once
// A cache of parsed catalog files, shared by CLI runs. yaml-cpp spends ~700 instructions per byte
// scanning, so parsing the ~120 KB of shipped YAML was a third of a whole `predict` call; rebuilding the
// same documents (as plain DocNode trees, with their line numbers) from a compact JSON image is
// several times faster. The cache is keyed by every
// file's path, size and modification time plus the build's git SHA, holds only documents of a catalog
// that loaded without error, and is rewritten atomically (temp file + rename). A miss or an unreadable
// cache silently falls back to parsing: the cache can make a run faster, never different.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sim/catalog/doc_node.hpp"

namespace servetwin {

// Where CLI runs keep the cache: $SERVETWIN_CACHE_DIR, else $XDG_CACHE_HOME/servetwin, else
// $HOME/.cache/servetwin. Empty when SERVETWIN_NO_CACHE is set or no location is known.
std::filesystem::path default_parse_cache_dir();

class ParseCache {
 public:
  ParseCache(const std::filesystem::path& cache_dir, const std::filesystem::path& config_dir,
             const std::vector<std::filesystem::path>& files);
  // The documents of `files`, in order, when the cache matches them.
  [[nodiscard]] std::optional<std::vector<yamlx::DocNode>> read() const;
  // Best effort: errors (read-only home, full disk) are ignored.
  void write(const std::vector<yamlx::DocNode>& docs) const;

 private:
  std::filesystem::path file_;
  std::string fingerprint_;
  std::size_t count_ = 0;
};

}  // namespace servetwin
