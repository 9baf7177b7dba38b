// `servetwin list <kind> [--json] [--config-dir DIR]`: one table row per catalog entry.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "sim/catalog/catalog.hpp"
#include "sim/catalog/catalog_view.hpp"
#include "sim/cli/verb_registry.hpp"

namespace servetwin::cli {
namespace {

struct ListOptions {
  std::string kind;
  std::string config_dir;
  bool json = false;
};

std::string allowed_kinds() {
  std::string s;
  for (const auto& k : Catalog::kinds()) s += (s.empty() ? "" : ", ") + k;
  return s;
}

const VerbRegistration kList{Verb{
    "list", "List catalog entries: gpus, models, instances, interconnects, profiles, engines, workloads",
    [](CLI::App& cmd) -> std::function<int()> {
      auto opts = std::make_shared<ListOptions>();
      cmd.add_option("kind", opts->kind, "Catalog kind: " + allowed_kinds())->required();
      cmd.add_flag("--json", opts->json, "Print typed entries as JSON (SI units) instead of a table");
      cmd.add_option("--config-dir", opts->config_dir, "Catalog directory (default: $SERVETWIN_CONFIG_DIR or built-in)");
      return [opts] {
        const std::string kind = Catalog::normalize_kind(opts->kind);
        if (kind.empty()) {
          throw UsageError("list: unknown kind '" + opts->kind + "'; allowed: " + allowed_kinds());
        }
        const Catalog catalog =
            opts->config_dir.empty() ? Catalog::load() : Catalog::load(std::filesystem::path(opts->config_dir));
        if (opts->json) {
          nlohmann::json entries = nlohmann::json::array();
          for (const auto& name : catalog.names(kind)) entries.push_back(entry_json(catalog, kind, name));
          std::cout << nlohmann::json{{"kind", kind}, {"entries", entries}}.dump(2) << "\n";
          return kExitOk;
        }
        // Same table either way; a terminal also gets a bold header.
        std::cout << render_table(catalog_table(catalog, kind), isatty(fileno(stdout)) != 0);
        return kExitOk;
      };
    }}};

}  // namespace
}  // namespace servetwin::cli
