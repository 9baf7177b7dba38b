// `servetwin show <kind> <name> [--json] [--config-dir DIR]`: every field of one catalog entry with
// its unit and source (or provenance), or the typed entry plus its YAML document as JSON.
#include <iostream>

#include "sim/catalog/catalog.hpp"
#include "sim/catalog/catalog_view.hpp"
#include "sim/cli/verb_registry.hpp"

namespace servetwin::cli {
namespace {

struct ShowOptions {
  std::string kind;
  std::string name;
  std::string config_dir;
  bool json = false;
};

const VerbRegistration kShow{Verb{
    "show", "Show one catalog entry with the source of every number",
    [](CLI::App& cmd) -> std::function<int()> {
      auto opts = std::make_shared<ShowOptions>();
      std::string kinds;
      for (const auto& k : Catalog::kinds()) kinds += (kinds.empty() ? "" : ", ") + k;
      cmd.add_option("kind", opts->kind, "Catalog kind (singular or plural): " + kinds)->required();
      cmd.add_option("name", opts->name, "Entry name or alias (case-insensitive)")->required();
      cmd.add_flag("--json", opts->json, "Print {kind, name, resolved, document} as JSON");
      cmd.add_option("--config-dir", opts->config_dir, "Catalog directory (default: $SERVETWIN_CONFIG_DIR or built-in)");
      return [opts, kinds] {
        const std::string kind = Catalog::normalize_kind(opts->kind);
        if (kind.empty()) throw UsageError("show: unknown kind '" + opts->kind + "'; allowed: " + kinds);
        const Catalog catalog =
            opts->config_dir.empty() ? Catalog::load() : Catalog::load(std::filesystem::path(opts->config_dir));
        const std::string name = catalog.resolve(kind, opts->name);
        if (opts->json) {
          const nlohmann::json out{{"kind", kind},
                                   {"name", name},
                                   {"resolved", entry_json(catalog, kind, name)},
                                   {"document", catalog.document(kind, name)}};
          std::cout << out.dump(2) << "\n";
          return kExitOk;
        }
        std::cout << render_document(catalog, kind, name);
        // A GPU's cost-model profile, with each parameter's provenance and source (issue 7).
        if (kind == "gpus" && catalog.has_profile(name))
          std::cout << "\nhardware profile (configs/profiles):\n" << render_document(catalog, "profiles", name);
        return kExitOk;
      };
    }}};

}  // namespace
}  // namespace servetwin::cli
