// The parse cache's document image (parse_cache.cpp): every node kind, awkward scalar text and line
// numbers survive a write/read round trip, and a damaged or foreign cache file is refused (the
// catalog then parses the YAML instead) rather than read as something else.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sim/catalog/doc_node.hpp"
#include "sim/catalog/parse_cache.hpp"
#include "sim/catalog/strict_yaml.hpp"

namespace servetwin {
namespace {

namespace fs = std::filesystem;
using yamlx::DocNode;

DocNode sample_document() {
  DocNode root = DocNode::map(0);
  root.add_entry(DocNode::scalar("kind", false, 0), DocNode::scalar("engine", false, 0));
  // Text holding the image's own delimiters, a newline, a multi-byte character and nothing at all.
  root.add_entry(DocNode::scalar("notes", false, 1), DocNode::scalar("a: 3 b\nM1 2 S4:x \xc2\xb5s", true, 1));
  root.add_entry(DocNode::scalar("empty", false, 2), DocNode::scalar("", true, 2));
  root.add_entry(DocNode::scalar("quoted_number", false, 3), DocNode::scalar("256", true, 3));
  root.add_entry(DocNode::scalar("plain_number", false, 4), DocNode::scalar("256", false, 4));
  root.add_entry(DocNode::scalar("nothing", false, 5), DocNode::null(5));
  DocNode list = DocNode::sequence(6);
  list.add_item(DocNode::scalar("x", false, 7));
  DocNode inner = DocNode::map(8);
  inner.add_entry(DocNode::scalar("value", false, 8), DocNode::scalar("1e9", false, 8));
  list.add_item(std::move(inner));
  list.add_item(DocNode::sequence(9));  // empty list
  root.add_entry(DocNode::scalar("items", false, 6), std::move(list));
  return root;
}

void expect_same(const DocNode& a, const DocNode& b) {
  ASSERT_EQ(a.type(), b.type());
  EXPECT_EQ(a.line(), b.line());
  EXPECT_EQ(a.text(), b.text());
  EXPECT_EQ(a.quoted(), b.quoted());
  ASSERT_EQ(a.entries().size(), b.entries().size());
  for (std::size_t i = 0; i < a.entries().size(); ++i) {
    expect_same(a.entries()[i].first, b.entries()[i].first);
    expect_same(a.entries()[i].second, b.entries()[i].second);
  }
  ASSERT_EQ(a.items().size(), b.items().size());
  for (std::size_t i = 0; i < a.items().size(); ++i) expect_same(a.items()[i], b.items()[i]);
}

struct TempCatalogDir {
  // One directory per test: ctest runs the tests of this file in parallel processes.
  fs::path root = fs::temp_directory_path() /
                  (std::string("servetwin_parse_cache_image_") +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::path file = root / "configs" / "a.yaml";
  TempCatalogDir() {
    fs::remove_all(root);
    fs::create_directories(root / "configs");
    std::ofstream(file) << "kind: engine\n";
  }
  ~TempCatalogDir() { fs::remove_all(root); }
  [[nodiscard]] ParseCache cache() const { return {root / "cache", root / "configs", {file, file}}; }
  [[nodiscard]] fs::path cache_file() const { return fs::directory_iterator(root / "cache")->path(); }
};

TEST(ParseCacheImage, RoundTripKeepsEveryNodeKindTextQuotingAndLine) {
  const TempCatalogDir dir;
  const std::vector<DocNode> docs{sample_document(), DocNode::scalar("second", false, 0)};
  dir.cache().write(docs);
  const auto back = dir.cache().read();
  ASSERT_TRUE(back.has_value());
  ASSERT_EQ(back->size(), 2U);
  expect_same((*back)[0], docs[0]);
  expect_same((*back)[1], docs[1]);
  // Quoted numbers stay strings and plain ones become numbers in the JSON documents `show` prints.
  const auto j = yamlx::to_json((*back)[0]);
  EXPECT_TRUE(j.at("quoted_number").is_string());
  EXPECT_TRUE(j.at("plain_number").is_number());
  EXPECT_TRUE(j.at("nothing").is_null());
}

TEST(ParseCacheImage, DamagedOrForeignImagesAreRefused) {
  const TempCatalogDir dir;
  dir.cache().write({sample_document(), sample_document()});
  const fs::path f = dir.cache_file();
  std::ostringstream read_back;
  read_back << std::ifstream(f, std::ios::binary).rdbuf();
  const std::string image = read_back.str();
  const auto body = image.find('\n') + 1;
  const auto rewrite = [&](const std::string& text) { std::ofstream(f, std::ios::binary | std::ios::trunc) << text; };
  rewrite(image.substr(0, image.size() - 5));  // truncated
  EXPECT_FALSE(dir.cache().read().has_value());
  rewrite(image + "N0 ");  // a document too many
  EXPECT_FALSE(dir.cache().read().has_value());
  rewrite(image.substr(0, body) + "X" + image.substr(body + 1));  // unknown tag
  EXPECT_FALSE(dir.cache().read().has_value());
  rewrite(image.substr(0, body) + "[\"m\",0,[]]\n");  // the earlier JSON layout
  EXPECT_FALSE(dir.cache().read().has_value());
  rewrite(image);
  EXPECT_TRUE(dir.cache().read().has_value());
}

}  // namespace
}  // namespace servetwin
