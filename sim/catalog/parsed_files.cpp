#include "sim/catalog/parsed_files.hpp"

#include <algorithm>
#include <atomic>
#include <thread>

#include "sim/catalog/strict_yaml.hpp"

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
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < all.size(); i = next++) parsed.parse(i, all[i]);
  };
  const unsigned threads = std::min<unsigned>(4, std::max(1U, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return parsed;
}

}  // namespace servetwin::catalog_detail
