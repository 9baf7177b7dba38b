// `servetwin version`: tool version, git SHA and where the catalogs are read from.
#include <iostream>

#include "sim/catalog/catalog.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/version.hpp"

namespace servetwin::cli {
namespace {

const VerbRegistration kVersion{Verb{
    "version", "Print version, git SHA and config directory",
    [](CLI::App& /*cmd*/) -> std::function<int()> {
      return [] {
        std::cout << "servetwin " << version_string() << " (git " << git_sha() << ")\n"
                  << "configs: " << default_config_dir().string() << "\n";
        return kExitOk;
      };
    }}};

}  // namespace
}  // namespace servetwin::cli
