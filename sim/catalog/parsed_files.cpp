#include "sim/catalog/parsed_files.hpp"

#include <algorithm>
#include <thread>

#include "sim/catalog/strict_yaml.hpp"
#include "sim/core/parallel_for.hpp"

namespace servetwin::catalog_detail {

void ParsedFiles::parse(std::size_t i, const std::filesystem::path& path) {
  try {
    nodes_[i] = std::make_shared<const yamlx::DocNode>(yamlx::load_file(path));
  } catch (...) {
    errors_[i] = std::current_exception();
  }
}

std::filesystem::path& parse_cache_dir() {
  static std::filesystem::path dir;  // empty: no cache (library users and tests stay hermetic)
  return dir;
}

ParsedFiles parse_all(const std::vector<std::filesystem::path>& all) {
  ParsedFiles parsed(all.size());
  // parse() records each file's error by index, so the body never throws (parallel_for's contract).
  const unsigned threads = std::min<unsigned>(4, std::max(1U, std::thread::hardware_concurrency()));
  parallel_for(all.size(), static_cast<int>(threads), [&](std::size_t i) { parsed.parse(i, all[i]); });
  return parsed;
}

}  // namespace servetwin::catalog_detail
