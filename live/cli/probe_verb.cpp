// `servetwin calibrate probe`: black-box probe of a live endpoint (live/probe), see docs/calibration.md.
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include "live/common/util.hpp"
#include "live/probe/probe_run.hpp"
#include "sim/cli/verb_registry.hpp"

namespace servetwin::cli {
namespace {

std::atomic<bool> g_probe_stop{false};
extern "C" void on_probe_signal(int /*sig*/) { g_probe_stop.store(true); }

const SubverbRegistration kProbe{Subverb{
    "calibrate",
    Verb{"probe", "Send a designed request set to a live endpoint and record it (probe.json) for calibrate fit",
         [](CLI::App& cmd) -> std::function<int()> {
           auto o = std::make_shared<live::ProbeOptions>();
           auto budget = std::make_shared<std::string>("5m");
           cmd.add_option("--target", o->target, "the endpoint, HOST:PORT")->required();
           cmd.add_option("--protocol", o->protocol, "openai | tgis | caikit")->required();
           cmd.add_option("--model-id", o->model_id, "model id (TGIS model_id, Caikit mm-model-id, OpenAI model)");
           cmd.add_option("--budget", *budget, "wall-time budget, e.g. 5m (at least 60s)");
           cmd.add_option("--out", o->out, "probe.json to write (stage outputs go to OUT.d/)")->required();
           cmd.add_option("--metrics-url", o->metrics_url,
                          "the server's Prometheus endpoint (default for openai: http://TARGET/metrics)");
           cmd.add_option("--engine-name", o->engine_name, "the engine, NAME[ VERSION], when the server does not say");
           cmd.add_option("--max-context", o->max_context_tokens,
                          "prompt + output tokens the server accepts (default: its max_model_len, else 2048)");
           cmd.add_option("--max-concurrency", o->max_concurrency, "largest decode batch probed (default 16)")
               ->check(CLI::Range(1, 1024));
           cmd.add_option("--burst", o->burst_requests, "requests in the admission burst (default 48)")
               ->check(CLI::Range(2, 100000));
           cmd.add_option("--seed", o->seed, "seed for the prompts");
           cmd.add_option("--reference-dataset", o->reference_dataset,
                          "dataset whose lone requests run once per decode pass (phase 'reference'): the shape of "
                          "the drift sentinels the loop compares with the probe");
           return [o, budget]() -> int {
             try {
               o->budget_s = live::parse_duration_s(*budget);
             } catch (const std::exception& e) {
               throw UsageError(std::string("--budget: ") + e.what());
             }
             g_probe_stop.store(false);
             struct sigaction sa{};
             sa.sa_handler = on_probe_signal;
             sigemptyset(&sa.sa_mask);
             sigaction(SIGINT, &sa, nullptr);
             sigaction(SIGTERM, &sa, nullptr);
             try {
               const int rc = live::run_probe(*o, &g_probe_stop);
               return rc == 0 ? kExitOk : kExitFailure;
             } catch (const live::ProbeUsageError& e) {
               throw UsageError(std::string("calibrate probe: ") + e.what());
             }
           };
         }}}};

}  // namespace
}  // namespace servetwin::cli
