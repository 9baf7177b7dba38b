// `servetwin predict`: simulate one or more configurations over load stages; print the tables and
// write summary.json + requests.csv. With no arguments: the seed article's Table 2 configurations.
#include <future>
#include <iostream>
#include <memory>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/cli/scenario_options.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/formats/write_formats.hpp"
#include "sim/interval/stage_interval.hpp"
#include "sim/scenario/memory_budget.hpp"
#include "sim/scenario/run_output.hpp"
#include "sim/workload/trace.hpp"

namespace servetwin::cli {
namespace {

const VerbRegistration kPredict{Verb{
    "predict", "Simulate configurations over load stages (default: the seed article's Table 2 set)",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<ScenarioOptions>();
      add_scenario_options(cmd, *o);
      auto format_list = std::make_shared<std::string>();
      cmd.add_option("--formats", *format_list,
                     "with --out: also write other tools' result files: vllm-bench, llm-d, all (docs/result-formats.md)");
      auto interval_level = std::make_shared<double>(kDefaultIntervalLevel);
      add_interval_level_option(cmd, *interval_level);
      return [o, format_list, interval_level] {
        const auto out_formats = format_list->empty() ? std::vector<formats::OutFormat>{} : formats::parse_out_formats(*format_list);
        if (!out_formats.empty() && o->out.empty()) throw UsageError("--formats needs --out DIR");
        // A trace file is parsed while the catalog loads: both are milliseconds of parsing, and the
        // whole process is what a user waits for (issue 5's S1 command).
        std::future<std::vector<TraceRow>> trace_rows;
        if (!o->trace.empty()) trace_rows = std::async(std::launch::async, [p = o->trace] { return load_trace_csv(p); });
        const Catalog catalog = Catalog::load(o->config_dir.empty() ? default_config_dir() : std::filesystem::path(o->config_dir));
        auto scenarios = scenarios_from_options(*o, (catalog.dir() / "scenarios" / "seed-article-table2.yaml").string());
        for (auto& s : scenarios) s = resolve_scenario(catalog, s);
        if (trace_rows.valid()) {
          const std::vector<TraceRow> rows = trace_rows.get();  // rethrows a bad trace's error
          for (auto& s : scenarios) {
            if (s.load.type == "trace" && s.trace_rows.empty()) s.trace_rows = rows;
          }
        }
        const bool keep_records = !o->out.empty();
        const int jobs = jobs_or_default(o->jobs);
        apply_memory_budget(catalog, scenarios, jobs, o->max_memory_bytes.value_or(default_memory_budget_bytes()));
        auto runs = run_scenarios(catalog, scenarios, jobs, keep_records, /*progress=*/true);
        add_stage_intervals(catalog, load_interval_model(catalog, checked_interval_level(*interval_level)), runs);
        RunInfo info;
        info.producer = "simulator";
        info.seed = scenarios.front().seed;
        if (!o->out.empty()) write_run_outputs(o->out, info, runs);
        if (!out_formats.empty()) formats::write_foreign_formats(o->out, runs, out_formats);
        if (o->json) {
          std::cout << make_summary(info, to_scenario_results(runs)).dump(2) << "\n";
        } else {
          print_run_tables(std::cout, runs, 10);
          if (!o->out.empty()) std::cout << "\nwrote " << o->out << "/summary.json and requests.csv\n";
        }
        if (const std::string why = cannot_serve_reason(runs); !why.empty()) {
          std::cerr << "servetwin predict: " << why << " (exit " << kExitCannotServe << ")\n";
          return kExitCannotServe;
        }
        return kExitOk;
      };
    }}};

}  // namespace
}  // namespace servetwin::cli
