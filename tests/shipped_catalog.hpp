#pragma once
// The shipped catalog (configs/), loaded once per test process and shared by the tests that read it.
// Needs SERVETWIN_SOURCE_DIR (tests/CMakeLists.txt defines it for the test executables).
#include <filesystem>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

inline const Catalog& shipped_catalog() {
  static const Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  return catalog;
}

}  // namespace servetwin
