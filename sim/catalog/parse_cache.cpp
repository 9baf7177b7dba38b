#include "sim/catalog/parse_cache.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "sim/version.hpp"

namespace servetwin {
namespace {

using Json = nlohmann::ordered_json;  // key order of maps is kept, as yaml-cpp keeps it

// Node <-> JSON. Scalars keep their text and whether they were quoted (is_plain_scalar looks at the
// "!" tag); maps keep key order.
Json encode(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      Json pairs = Json::array();
      for (const auto& kv : n) pairs.push_back(Json::array({encode(kv.first), encode(kv.second)}));
      return Json{{"m", std::move(pairs)}};
    }
    case YAML::NodeType::Sequence: {
      Json items = Json::array();
      for (const auto& item : n) items.push_back(encode(item));
      return Json{{"l", std::move(items)}};
    }
    case YAML::NodeType::Scalar:
      return Json{{n.Tag() == "!" ? "q" : "s", n.Scalar()}};
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return nullptr;
}

YAML::Node decode(const Json& j) {
  if (j.is_null()) return YAML::Node(YAML::NodeType::Null);
  const auto& [tag, body] = *j.items().begin();
  if (tag == "m") {
    YAML::Node map(YAML::NodeType::Map);
    for (const auto& kv : body) map.force_insert(decode(kv[0]), decode(kv[1]));
    return map;
  }
  if (tag == "l") {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (const auto& item : body) seq.push_back(decode(item));
    return seq;
  }
  YAML::Node scalar(body.get<std::string>());
  if (tag == "q") scalar.SetTag("!");
  return scalar;
}

// Each config directory gets its own cache file (tests use temporary copies): keep the newest few.
void prune(const std::filesystem::path& dir) {
  constexpr std::size_t kKeep = 8;
  std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("catalog-", 0) == 0 && e.path().extension() == ".json") {
      files.emplace_back(e.last_write_time(ec), e.path());
    }
  }
  if (files.size() <= kKeep) return;
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = kKeep; i < files.size(); ++i) std::filesystem::remove(files[i].second, ec);
}

}  // namespace

std::filesystem::path default_parse_cache_dir() {
  if (std::getenv("SERVETWIN_NO_CACHE") != nullptr) return {};
  if (const char* d = std::getenv("SERVETWIN_CACHE_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d != nullptr && *d != '\0') {
    return std::filesystem::path(d) / "servetwin";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {
    return std::filesystem::path(h) / ".cache" / "servetwin";
  }
  return {};
}

ParseCache::ParseCache(std::filesystem::path cache_dir, const std::filesystem::path& config_dir,
                       const std::vector<std::filesystem::path>& files)
    : count_(files.size()) {
  if (cache_dir.empty()) return;
  std::error_code ec;
  const auto dir = std::filesystem::weakly_canonical(config_dir, ec);
  std::ostringstream fp;
  fp << git_sha() << '\n' << (ec ? config_dir : dir).string() << '\n';
  for (const auto& f : files) {
    const auto size = std::filesystem::file_size(f, ec);
    const auto mtime = std::filesystem::last_write_time(f, ec).time_since_epoch().count();
    fp << f.string() << '|' << size << '|' << mtime << '\n';
  }
  fingerprint_ = fp.str();
  // One cache file per config directory.
  file_ = cache_dir / ("catalog-" + std::to_string(std::hash<std::string>{}((ec ? config_dir : dir).string())) +
                       ".json");
}

// File layout: line 1 is the fingerprint as a JSON string; then one JSON document per line, so a
// read can decode the documents on two threads.
std::optional<std::vector<YAML::Node>> ParseCache::read() const {
  if (file_.empty()) return std::nullopt;
  std::ifstream in(file_, std::ios::binary);
  if (!in) return std::nullopt;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  try {
    if (lines.size() != count_ + 1 || Json::parse(lines[0]).get<std::string>() != fingerprint_) return std::nullopt;
    std::vector<YAML::Node> out(count_);
    std::atomic<bool> ok{true};
    auto decode_range = [&](std::size_t first, std::size_t step) {
      try {
        for (std::size_t i = first; i < count_; i += step) out[i] = decode(Json::parse(lines[i + 1]));
      } catch (const std::exception&) {
        ok = false;
      }
    };
    std::thread helper;
    if (count_ > 8 && std::thread::hardware_concurrency() > 1) helper = std::thread(decode_range, 1, 2);
    decode_range(0, helper.joinable() ? 2 : 1);
    if (helper.joinable()) helper.join();
    if (!ok) return std::nullopt;
    return out;
  } catch (const std::exception&) {
    return std::nullopt;  // corrupt or from another format: parse instead
  }
}

void ParseCache::write(const std::vector<YAML::Node>& docs) const {
  if (file_.empty()) return;
  try {
    std::string text = Json(fingerprint_).dump() + "\n";
    for (const auto& d : docs) text += encode(d).dump() + "\n";  // dump() escapes newlines in strings
    std::error_code ec;
    std::filesystem::create_directories(file_.parent_path(), ec);
    const auto tmp = file_.string() + ".tmp" + std::to_string(::getpid());
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) return;
      out << text;
      if (!out) return;
    }
    std::filesystem::rename(tmp, file_, ec);
    if (ec) std::filesystem::remove(tmp, ec);
    prune(file_.parent_path());
  } catch (const std::exception&) {
    // best effort
  }
}

}  // namespace servetwin
