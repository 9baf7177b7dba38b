// `servetwin validate --data FILE.csv [--data ...] [--json OUT] [--jobs N]`: run every row of the
// published-measurement CSVs through the simulator and report errors per source (sim/validate).
// `servetwin validate --live DIR [--model ... deployment flags] [--json OUT]`: re-simulate a live
// run (`servetwin load --out DIR`) and report measured vs predicted per stage, same report shape.
#include <fstream>
#include <iostream>
#include <memory>

#include "sim/catalog/catalog.hpp"
#include "sim/cli/scenario_options.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/interval/interval_model.hpp"
#include "sim/validate/live_validate.hpp"
#include "sim/validate/validate.hpp"
#include "sim/validate/validation_intervals.hpp"

namespace servetwin::cli {
namespace {

struct ValidateFlags {
  std::vector<std::string> data;
  std::string live_dir;
  DeploymentOptions deployment;  // --live: the server's deployment when the run did not record it
  std::string json_out;
  std::string config_dir;
  std::string write_intervals;  // --write-intervals: the residual table of this run
  double interval_level = kDefaultIntervalLevel;
  int jobs = 0;
};

// The residual table the rows' intervals come from: this run's (written to `path`) or the shipped one.
IntervalModel interval_model_for(const Catalog& catalog, const nlohmann::json& report, const ValidateFlags& f) {
  const double level = checked_interval_level(f.interval_level);
  if (f.write_intervals.empty()) return load_interval_model(catalog, level);
  std::vector<Residual> residuals = residuals_from_report(report);
  std::ofstream out(f.write_intervals, std::ios::binary | std::ios::trunc);
  if (!out) throw UsageError("--write-intervals: cannot write " + f.write_intervals);
  write_residual_csv(out, residuals);
  std::cout << "wrote " << residuals.size() << " residuals to " << f.write_intervals << "\n";
  return IntervalModel(std::move(residuals), level, "this run");
}

const VerbRegistration kValidate{Verb{
    "validate", "Score predictions against published measurements (--data CSV) or a live run (--live DIR)",
    [](CLI::App& cmd) -> std::function<int()> {
      auto f = std::make_shared<ValidateFlags>();
      auto* data = cmd.add_option("--data", f->data, "validation CSV file (repeatable)");
      auto* live = cmd.add_option("--live", f->live_dir,
                                  "run to re-simulate: servetwin load --out DIR, or an llm-load-test / vLLM bench / "
                                  "GuideLLM / llm-d result file (docs/result-formats.md)");
      data->excludes(live);
      add_deployment_options(cmd, f->deployment);
      cmd.add_option("--json", f->json_out, "write the full report (per row and per source) as JSON here");
      cmd.add_option("--jobs", f->jobs, "parallel simulations (default: all cores)");
      cmd.add_option("--interval-level", f->interval_level,
                     "--data: prediction-interval level, a fraction in (0, 1) (default 0.8)");
      cmd.add_option("--write-intervals", f->write_intervals,
                     "--data: write this run's residual table here and draw the intervals from it "
                     "(scripts/update-intervals.sh writes configs/validation/interval_residuals.csv)");
      cmd.add_option("--config-dir", f->config_dir, "catalog directory (default: the shipped configs/)");
      return [f] {
        if (f->data.empty() && f->live_dir.empty()) throw UsageError("give --data FILE.csv or --live DIR");
        const bool deployment_flags =
            !f->deployment.d.model.empty() || !f->deployment.d.gpu.empty() || !f->deployment.d.instance.empty();
        if (!f->live_dir.empty() && !f->write_intervals.empty()) throw UsageError("--write-intervals applies to --data only");
        if (deployment_flags && f->live_dir.empty()) throw UsageError("--model, --gpu, --instance and deployment flags apply to --live only");
        const Catalog catalog =
            Catalog::load(f->config_dir.empty() ? default_config_dir() : std::filesystem::path(f->config_dir));
        nlohmann::json report;
        if (!f->live_dir.empty()) {
          LiveValidateOptions o;
          o.dir = f->live_dir;
          if (deployment_flags) o.deployment = f->deployment.resolved_flags();
          report = run_live_validation(catalog, o);
          print_live_validation_tables(std::cout, report);
        } else {
          ValidateOptions o;
          for (const auto& d : f->data) o.data.emplace_back(d);
          o.jobs = f->jobs > 0 ? f->jobs : default_jobs();
          report = run_validation(catalog, o);
          add_interval_columns(report, interval_model_for(catalog, report, *f));
          print_validation_tables(std::cout, report);
        }
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
