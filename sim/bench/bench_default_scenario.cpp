// Performance bar of issue 4: the default scenario (the seed article's 6 configurations x 9 concurrency
// levels x 240 s simulated) end to end on one core; target < 0.5 s wall. Reports simulated requests and
// output tokens per wall-second. Run: build/bench/bench_default_scenario
#include <benchmark/benchmark.h>

#include "sim/catalog/catalog.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/scenario/scenario_file.hpp"

namespace servetwin {
namespace {

void BM_DefaultScenarioOneCore(benchmark::State& state) {
  const Catalog catalog = Catalog::load(default_config_dir());
  std::vector<Scenario> scenarios;
  for (auto& s : load_scenario_file(catalog.dir() / "scenarios" / "seed-article-table2.yaml")) {
    scenarios.push_back(resolve_scenario(catalog, s));
  }
  double requests = 0, tokens = 0, events = 0;
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): google-benchmark's loop idiom
    const auto runs = run_scenarios(catalog, scenarios, /*jobs=*/1, /*keep_records=*/false, /*progress=*/false);
    for (const auto& run : runs) {
      for (const auto& st : run.stages) {
        requests += static_cast<double>(st.metrics.completed);
        // Output tokens of requests finished in the window (the stage's throughput x window).
        tokens += st.metrics.throughput_output_tok_s * st.metrics.window_s;
        events += static_cast<double>(st.events);
      }
    }
  }
  state.counters["sim_requests_per_s"] = benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["sim_output_tokens_per_s"] = benchmark::Counter(tokens, benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DefaultScenarioOneCore)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace
}  // namespace servetwin

BENCHMARK_MAIN();
