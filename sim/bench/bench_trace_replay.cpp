// Replays ../shared/bench/poisson_r5_n10000_p512_o128_s42.csv through scenario S1 of
// ../shared/bench/README.md: Llama-2-7B on one A100-80GB, TP1, vLLM continuous batching with at most
// 128 running sequences and 2,048 batched tokens per step. BLIS takes 3.8-3.95 s of wall time for
// this on a 2-core machine; the bar is <= 75 ms for the whole CLI process.
#include <benchmark/benchmark.h>
#include <spawn.h>
#include <fcntl.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

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
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): google-benchmark's loop idiom
    const StageResult r = run_stage(catalog, s, 0, /*keep_records=*/true);
    requests += r.records.size();
    for (const auto& rec : r.records) tokens += static_cast<double>(rec.output_tokens);
    benchmark::DoNotOptimize(r.metrics.throughput_output_tok_s);
  }
  state.counters["requests_per_wall_s"] = benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
  state.counters["output_tokens_per_wall_s"] = benchmark::Counter(tokens, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TraceReplayS1)->Unit(benchmark::kMillisecond)->UseRealTime();

extern "C" char** environ;

// The measurement: the whole `servetwin predict ... --trace FILE --out DIR` process, from
// spawn to exit (loading the catalog and the trace, simulating, writing summary.json and
// requests.csv). Arg 0: the CLI's parse cache on (the state after any earlier run); arg 1: off
// (SERVETWIN_NO_CACHE, every YAML file parsed).
void BM_CliS1WholeProcess(benchmark::State& state) {
  const std::string bin = std::getenv("SERVETWIN_BINARY") != nullptr ? std::getenv("SERVETWIN_BINARY") : SERVETWIN_CLI_BINARY;
  const auto trace = (shared_dir() / "bench" / "poisson_r5_n10000_p512_o128_s42.csv").string();
  const auto out = (std::filesystem::temp_directory_path() / "servetwin_bench_s1").string();
  std::vector<std::string> args{bin, "predict", "--model", "meta-llama/Llama-2-7b-hf", "--gpu", "A100-80GB-SXM",
                                "--tp", "1", "--engine", "vllm", "--engine-set", "max_num_seqs=128",
                                "--engine-set", "max_num_batched_tokens=2048", "--trace", trace, "--out", out};
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  if (state.range(0) == 1) env_strings.emplace_back("SERVETWIN_NO_CACHE=1");
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  for (auto _ : state) {  // NOLINT(clang-analyzer-deadcode.DeadStores): google-benchmark's loop idiom
    const auto t0 = std::chrono::steady_clock::now();
    pid_t pid = 0;
    if (posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), envp.data()) != 0) {
      state.SkipWithError(("cannot run " + bin).c_str());
      break;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    const auto t1 = std::chrono::steady_clock::now();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("servetwin predict failed");
      break;
    }
    state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
  }
  posix_spawn_file_actions_destroy(&fa);
  state.SetLabel(state.range(0) == 1 ? "parse cache off" : "parse cache on");
}
BENCHMARK(BM_CliS1WholeProcess)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseManualTime()->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
