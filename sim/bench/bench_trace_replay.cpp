// Replays ../shared/bench/poisson_r5_n10000_p512_o128_s42.csv through scenario S1 of
// ../shared/bench/README.md: Llama-2-7B on one A100-80GB, TP1, vLLM continuous batching with at most
// 128 running sequences and 2,048 batched tokens per step. BLIS takes 3.8-3.95 s of wall time for
// this on a 2-core machine; the bar is <= 75 ms for the whole CLI process.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "sim/catalog/catalog.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/workload/trace.hpp"

namespace {

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("SERVETWIN_SHARED_DIR")) return env;
  // The shared folder sits next to the repository (configs/ is at the repository root).
  return servetwin::default_config_dir().parent_path().parent_path() / "shared";
}

void BM_TraceReplayS1(benchmark::State& state) {
  using namespace servetwin;
  const Catalog catalog = Catalog::load(default_config_dir());
  const auto trace = shared_dir() / "bench" / "poisson_r5_n10000_p512_o128_s42.csv";
  Scenario s;
  s.deployment.model = "meta-llama/Llama-2-7b-hf";
  s.deployment.gpu = "A100-80GB-SXM";
  s.deployment.tp = 1;
  s.deployment.engine = "vllm-0.15";
  s.deployment.engine_set = {{"max_num_seqs", "128"}, {"max_num_batched_tokens", "2048"}};
  s.trace_path = trace.string();
  s = resolve_scenario(catalog, s);
  std::size_t requests = 0;
  double tokens = 0;
  for (auto _ : state) {
    const StageResult r = run_stage(catalog, s, 0, /*keep_records=*/true);
    requests += r.records.size();
    for (const auto& rec : r.records) tokens += static_cast<double>(rec.output_tokens);
    benchmark::DoNotOptimize(r.metrics.throughput_output_tok_s);
  }
  state.counters["requests_per_wall_s"] = benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
  state.counters["output_tokens_per_wall_s"] = benchmark::Counter(tokens, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TraceReplayS1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
