#include "sim/catalog/parse_cache.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "sim/version.hpp"

namespace servetwin {
namespace {

using Json = nlohmann::ordered_json;  // key order of maps is kept, as yaml-cpp keeps it

// DocNode <-> a compact length-prefixed image, read in one pass with no intermediate tree:
//   map      M<line> <n> <key><value>...      sequence  L<line> <n> <item>...
//   scalar   S<line> <len>:<text> (plain) or Q... (quoted)      null  N<line>
// (the space after each number ends it; <len> counts bytes, so text may hold any character).
void encode(const yamlx::DocNode& n, std::string& out) {
  using yamlx::DocNode;
  switch (n.type()) {
    case DocNode::Type::kMap:
      out += fmt::format("M{} {} ", n.line(), n.entries().size());
      for (const auto& [k, v] : n.entries()) {
        encode(k, out);
        encode(v, out);
      }
      return;
    case DocNode::Type::kSequence:
      out += fmt::format("L{} {} ", n.line(), n.items().size());
      for (const auto& item : n.items()) encode(item, out);
      return;
    case DocNode::Type::kScalar:
      out += fmt::format("{}{} {}:", n.quoted() ? 'Q' : 'S', n.line(), n.text().size());
      out += n.text();
      return;
    case DocNode::Type::kNull:
    case DocNode::Type::kUndefined: break;
  }
  out += fmt::format("N{} ", n.line());
}

struct BadImage : std::runtime_error {
  BadImage() : std::runtime_error("bad catalog cache image") {}
};

class ImageReader {
 public:
  explicit ImageReader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}
  [[nodiscard]] bool at_end() const { return p_ == end_; }

  yamlx::DocNode node(int depth = 0) {
    using yamlx::DocNode;
    if (p_ == end_ || depth > 64) throw BadImage();
    const char tag = *p_++;
    const auto line = static_cast<int>(number(' '));
    switch (tag) {
      case 'M': {
        const auto n = static_cast<std::size_t>(number(' '));
        DocNode m = DocNode::map(line);
        m.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          DocNode k = node(depth + 1);
          m.add_entry(std::move(k), node(depth + 1));
        }
        return m;
      }
      case 'L': {
        const auto n = static_cast<std::size_t>(number(' '));
        DocNode l = DocNode::sequence(line);
        l.reserve(n);
        for (std::size_t i = 0; i < n; ++i) l.add_item(node(depth + 1));
        return l;
      }
      case 'S':
      case 'Q': {
        const auto len = static_cast<std::size_t>(number(':'));
        if (static_cast<std::size_t>(end_ - p_) < len) throw BadImage();
        std::string text(p_, len);
        p_ += len;
        return DocNode::scalar(std::move(text), tag == 'Q', line);
      }
      case 'N': return DocNode::null(line);
      default: throw BadImage();
    }
  }

 private:
  // A decimal integer (possibly negative) followed by `stop`.
  long long number(char stop) {
    long long v = 0;
    const auto [ptr, ec] = std::from_chars(p_, end_, v);
    if (ec != std::errc() || ptr == end_ || *ptr != stop || v < -1) throw BadImage();
    p_ = ptr + 1;
    return v;
  }
  const char* p_;
  const char* end_;
};

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

// getenv is safe here: servetwin never calls setenv/putenv, so the environment is read-only.
std::filesystem::path default_parse_cache_dir() {
  if (std::getenv("SERVETWIN_NO_CACHE") != nullptr) return {};  // NOLINT(concurrency-mt-unsafe)
  if (const char* d = std::getenv("SERVETWIN_CACHE_DIR"); d != nullptr && *d != '\0') return d;  // NOLINT(concurrency-mt-unsafe)
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d != nullptr && *d != '\0') {  // NOLINT(concurrency-mt-unsafe)
    return std::filesystem::path(d) / "servetwin";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') {  // NOLINT(concurrency-mt-unsafe)
    return std::filesystem::path(h) / ".cache" / "servetwin";
  }
  return {};
}

ParseCache::ParseCache(const std::filesystem::path& cache_dir, const std::filesystem::path& config_dir,
                       const std::vector<std::filesystem::path>& files)
    : count_(files.size()) {
  if (cache_dir.empty()) return;
  std::error_code ec;
  const auto dir = std::filesystem::weakly_canonical(config_dir, ec);
  std::ostringstream fp;
  // The format number changes with the image layout (3: length-prefixed DocNode image).
  fp << "format 3\n" << git_sha() << '\n' << (ec ? config_dir : dir).string() << '\n';
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

// File layout: line 1 is the fingerprint as a JSON string; then the documents' images, back to back.
std::optional<std::vector<yamlx::DocNode>> ParseCache::read() const {
  if (file_.empty()) return std::nullopt;
  std::ifstream in(file_, std::ios::binary | std::ios::ate);
  if (!in) return std::nullopt;
  const auto size = static_cast<std::streamoff>(in.tellg());
  if (size <= 0) return std::nullopt;
  std::string image(static_cast<std::size_t>(size), '\0');
  in.seekg(0);
  if (!in.read(image.data(), size)) return std::nullopt;
  const auto eol = image.find('\n');
  if (eol == std::string::npos) return std::nullopt;
  try {
    if (Json::parse(std::string_view(image).substr(0, eol)).get<std::string>() != fingerprint_) return std::nullopt;
    ImageReader reader(std::string_view(image).substr(eol + 1));
    std::vector<yamlx::DocNode> out;
    out.reserve(count_);
    for (std::size_t i = 0; i < count_; ++i) out.push_back(reader.node());
    if (!reader.at_end()) return std::nullopt;
    return out;
  } catch (const std::exception&) {
    return std::nullopt;  // corrupt or from another format: parse instead
  }
}

void ParseCache::write(const std::vector<yamlx::DocNode>& docs) const {
  if (file_.empty()) return;
  try {
    std::string text = Json(fingerprint_).dump() + "\n";
    for (const auto& d : docs) encode(d, text);
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
