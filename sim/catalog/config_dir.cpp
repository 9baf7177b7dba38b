#include <cstdlib>

#include "sim/catalog/catalog.hpp"
#include "sim/version.hpp"

namespace servetwin {

std::filesystem::path default_config_dir() {
  // getenv races only with setenv/putenv, which servetwin never calls.
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  if (const char* env = std::getenv("SERVETWIN_CONFIG_DIR"); env != nullptr && *env != '\0') {
    return std::filesystem::path(env);
  }
  return std::filesystem::path(built_in_config_dir());
}

}  // namespace servetwin
