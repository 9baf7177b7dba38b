// `servetwin validate --data FILE.csv [--data ...] [--json OUT] [--jobs N]`: run every row of the
// published-measurement CSVs through the simulator and report errors per source (sim/validate).
#include <fstream>
#include <iostream>
#include <memory>

#include "sim/catalog/catalog.hpp"
#include "sim/cli/scenario_options.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/validate/validate.hpp"

namespace servetwin::cli {
namespace {

struct ValidateFlags {
  std::vector<std::string> data;
  std::string json_out;
  std::string config_dir;
  int jobs = 0;
};

const VerbRegistration kValidate{Verb{
    "validate", "Score predictions against published measurements (CSV schema of validation/published)",
    [](CLI::App& cmd) -> std::function<int()> {
      auto f = std::make_shared<ValidateFlags>();
      cmd.add_option("--data", f->data, "validation CSV file (repeatable)")->required();
      cmd.add_option("--json", f->json_out, "write the full report (per row and per source) as JSON here");
      cmd.add_option("--jobs", f->jobs, "parallel simulations (default: all cores)");
      cmd.add_option("--config-dir", f->config_dir, "catalog directory (default: the shipped configs/)");
      return [f] {
        const Catalog catalog =
            Catalog::load(f->config_dir.empty() ? default_config_dir() : std::filesystem::path(f->config_dir));
        ValidateOptions o;
        for (const auto& d : f->data) o.data.emplace_back(d);
        o.jobs = f->jobs > 0 ? f->jobs : default_jobs();
        const nlohmann::json report = run_validation(catalog, o);
        print_validation_tables(std::cout, report);
        if (!f->json_out.empty()) {
          std::ofstream out(f->json_out);
          if (!out) throw UsageError("--json: cannot write " + f->json_out);
          out << report.dump(1) << "\n";
          std::cout << "wrote " << f->json_out << "\n";
        }
        return kExitOk;
      };
    }}};

}  // namespace
}  // namespace servetwin::cli
