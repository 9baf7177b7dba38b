// `servetwin load`: the live load runner (OpenAI HTTP API, TGIS / Caikit gRPC), see docs/live.md.
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>

#include "live/load/openai_wire.hpp"
#include "live/load/runner.hpp"
#include "live/load/server_observer.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/cli/numeric_flags.hpp"
#include "sim/cli/scenario_options.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/cli/workload_options.hpp"
#include "sim/workload/arrivals.hpp"
#include "sim/workload/workload_choice.hpp"

namespace servetwin::cli {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_cancel_now{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

// First SIGINT/SIGTERM: stop sending and wait for what is in flight. Second: cancel it at once
// (the summary is still written). A third gets the default action (the process ends).
extern "C" void on_stop_signal(int sig) {
  if (!g_stop.exchange(true)) return;
  g_cancel_now.store(true);
  struct sigaction dfl{};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);  // async-signal-safe
}

double duration_flag(const std::string& s, const char* flag) {
  try {
    return live::parse_duration_s(s);
  } catch (const std::exception& e) {
    throw UsageError(std::string(flag) + ": " + e.what());
  }
}

struct Opts {
  std::string target, protocol = "tgis", model_id, model_name, api_key, ca,
      warmup, timeout = "240s", out, ready_timeout = "60s", config_dir, formats, error_window = "5s",
      stall_timeout = "60s", reconnect_timeout = "30s", backoff_max = "10s", scrape_metrics, scrape_interval = "1s",
      engine_name;
  DeploymentOptions deployment;  // what the server runs (optional), for `validate --live`
  WorkloadOptions workload;      // the same workload and arrival flags as predict
  bool tls = false, insecure = false, stream = false, unary = false, quiet = false, no_ignore_eos = false;
  double temperature = 0, max_error_rate = 0.5;
  bool no_backoff = false;
  int connections = 1, threads = 0;
  std::int64_t requests = 0;
  std::optional<double> duration_s;  // --duration, read as predict reads it (add_duration_flag)
};

// Fault handling (docs/live.md, "Faults").
void add_fault_options(CLI::App& cmd, Opts& o) {
  cmd.add_option("--max-error-rate", o.max_error_rate,
                 "Stop the run when more than this share of the requests ending in --error-window failed (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--error-window", o.error_window, "Error-rate breaker window (default 5s; 0 = no breaker)");
  cmd.add_option("--stall-timeout", o.stall_timeout,
                 "Cancel a request with no message for this long, recorded as class `stall` (default 60s; 0 = off)");
  cmd.add_option("--reconnect-timeout", o.reconnect_timeout,
                 "Keep retrying an unavailable server this long before stopping the run (default 30s)");
  cmd.add_flag("--no-backoff", o.no_backoff,
               "Closed loop: send a refused user's next request at once (default: exponential backoff with jitter, "
               "honouring Retry-After)");
  cmd.add_option("--backoff-max", o.backoff_max, "Longest exponential backoff wait (default 10s)");
}

// A fault-handling duration: finite and at most a day (longer is a typo, not a policy).
double fault_duration(const std::string& s, const char* flag) {
  constexpr double kMaxS = 86400;
  const double v = duration_flag(s, flag);
  if (!(v <= kMaxS)) throw UsageError(fmt::format("{}: '{}' is out of range (allowed: 0 to 24h)", flag, s));
  return v;
}

void apply_fault_options(const Opts& o, live::LoadConfig& c) {
  c.max_error_rate = o.max_error_rate;
  c.error_window_s = fault_duration(o.error_window, "--error-window");
  c.stall_timeout_s = fault_duration(o.stall_timeout, "--stall-timeout");
  c.reconnect_timeout_s = fault_duration(o.reconnect_timeout, "--reconnect-timeout");
  c.client_backoff = !o.no_backoff;
  c.backoff.cap_s = fault_duration(o.backoff_max, "--backoff-max");
  if (c.backoff.cap_s < c.backoff.base_s) {
    throw UsageError(fmt::format("--backoff-max must be at least the first wait, {} s", c.backoff.base_s));
  }
}

// --scrape-metrics / --engine-name: where the side requests go (docs/live.md, "Server metrics").
live::ServerObserverOptions observer_options(const Opts& o, bool openai) {
  live::ServerObserverOptions so;
  so.engine_name = o.engine_name;
  so.interval_s = duration_flag(o.scrape_interval, "--scrape-interval");
  if (!(so.interval_s > 0)) throw UsageError("--scrape-interval must be > 0");
  std::string base;  // http://HOST:PORT of the server's HTTP side
  if (openai) {
    const live::HttpTarget t = live::parse_http_target(o.target);
    if (!t.tls) base = "http://" + t.host + ":" + t.port;
  }
  if (o.scrape_metrics == "auto") {
    if (base.empty()) throw UsageError("--scrape-metrics auto needs a plain http:// OpenAI --target; give http://HOST:PORT/metrics");
    so.metrics_url = base + "/metrics";
  } else if (!o.scrape_metrics.empty()) {
    if (o.scrape_metrics.rfind("http://", 0) != 0)
      throw UsageError("--scrape-metrics '" + o.scrape_metrics + "': expected auto or http://HOST:PORT/metrics");
    so.metrics_url = o.scrape_metrics;
    if (base.empty()) base = o.scrape_metrics.substr(0, o.scrape_metrics.find('/', 7));
  }
  if (!base.empty()) {
    const std::string hostport = base.substr(7);
    const std::size_t colon = hostport.rfind(':');
    if (colon != std::string::npos) {
      so.info_host = hostport.substr(0, colon);
      so.info_port = hostport.substr(colon + 1);
    }
  }
  return so;
}

// The stages and arrivals from predict's flags: --concurrency or --rate (one stage per value),
// --arrival and --max-in-flight for the open loop.
void apply_load_shape(const WorkloadOptions& w, live::LoadConfig& c) {
  if (w.concurrency.empty() == w.rate.empty()) throw UsageError("give --concurrency LIST or --rate LIST (one of them)");
  for (const double u : w.concurrency) c.concurrency.push_back(static_cast<int>(u));  // whole numbers (limits::kConcurrency)
  c.rates = w.rate;
  if (w.arrival == "waves") throw UsageError("--arrival waves is predict's only (load sends no synchronised waves)");
  if (w.arrival && !c.rates.empty()) {  // as in predict, a closed loop ignores the open-loop process
    parse_arrival(*w.arrival);          // ConfigError naming the allowed forms
    c.arrival = *w.arrival;
  }
  c.max_in_flight = static_cast<int>(w.max_in_flight.value_or(0));
  if (c.max_in_flight > 0 && c.rates.empty()) throw UsageError("--max-in-flight applies to --rate (open loop) only");
}

// Which prompts: --dataset, --input-tokens/--output-tokens or --workload (one of them); none of them:
// predict's default workload (Scenario::workload), so both verbs send the same requests.
WorkloadChoice workload_choice(const WorkloadOptions& w) {
  WorkloadChoice choice{w.dataset, synthetic_lengths(w), w.workload};
  if (!w.dataset.empty() && !w.workload.empty()) throw UsageError("give --dataset or --workload, not both");
  if (w.dataset.empty() && w.workload.empty() && !choice.lengths) choice.workload = Scenario{}.workload;
  return choice;
}

const VerbRegistration kLoad{Verb{
    "load", "Drive a live OpenAI-compatible HTTP, TGIS or Caikit gRPC server (llm-load-test semantics, streaming metrics)",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<Opts>();
      cmd.add_option("--target", o->target, "Server: HOST:PORT (gRPC) or http(s)://HOST:PORT (OpenAI)")->required();
      cmd.add_option("--protocol", o->protocol, "openai-completions | openai-chat | tgis | caikit")
          ->check(CLI::IsMember({"tgis", "caikit", "openai-completions", "openai-chat"}));
      auto* mid = cmd.add_option("--model-id", o->model_id, "TGIS model_id / Caikit mm-model-id metadata");
      auto* mname = cmd.add_option("--model-name", o->model_name,
                                   "OpenAI `model` (default: the first model GET /v1/models lists)");
      mid->excludes(mname);
      cmd.add_option("--api-key", o->api_key, "OpenAI: sent as Authorization: Bearer KEY");
      cmd.add_option("--temperature", o->temperature, "OpenAI: sampling temperature (default 0 = greedy)")
          ->check(CLI::Range(0.0, 2.0));
      cmd.add_flag("--no-ignore-eos", o->no_ignore_eos,
                   "OpenAI: do not send ignore_eos (a vLLM extension; sent by default so outputs have the dataset's length)");
      cmd.add_flag("--tls", o->tls, "gRPC: use TLS (OpenAI: use an https:// target)");
      cmd.add_option("--ca,--ca-file", o->ca, "PEM file with the root certificates for TLS (default: the system store)");
      cmd.add_flag("--insecure", o->insecure,
                   "gRPC: plaintext (the default); OpenAI over https: do not verify the server's certificate");
      add_workload_options(cmd, o->workload);
      auto* dur = add_duration_flag(cmd, "--duration", o->duration_s, limits::kDurationS,
                                    "Measured time per stage: 60s, 2m, 500ms or a bare number of seconds (as predict)");
      auto* req = cmd.add_option("--requests", o->requests, "Measured requests per stage");
      dur->excludes(req);
      cmd.add_option("--warmup", o->warmup, "Per stage, excluded: a duration (10s) or a request count (20)");
      cmd.add_option("--timeout", o->timeout, "Per-request deadline and max wait for in-flight requests at the end");
      auto* st = cmd.add_flag("--stream", o->stream, "Server-streaming RPCs (default)");
      auto* un = cmd.add_flag("--unary,--no-stream", o->unary,
                              "Unary RPCs / OpenAI `stream: false` (no TTFT: first token = end)");
      st->excludes(un);
      cmd.add_option("--out", o->out, "Output directory")->required();
      cmd.add_option("--formats", o->formats,
                     "Also write each stage as vLLM bench serve results and/or llm-d reports: vllm-bench, llm-d, all");
      cmd.add_option("--ready-timeout", o->ready_timeout, "How long to wait for the server to become ready (0 = no readiness check)");
      cmd.add_option("--connections", o->connections, "HTTP/2 connections to spread requests over")
          ->check(CLI::Range(1, 256));
      cmd.add_option("--threads", o->threads,
                     "Threads that receive and timestamp messages (0 = half the hardware threads, 1 to 4)")
          ->check(CLI::Range(0, 64));
      cmd.add_flag("--quiet", o->quiet, "No progress line");
      add_fault_options(cmd, *o);
      cmd.add_option("--scrape-metrics", o->scrape_metrics,
                     "Scrape the server's Prometheus metrics into metrics.csv: http://HOST:PORT/metrics, or auto (OpenAI "
                     "targets: the target's /metrics)");
      cmd.add_option("--scrape-interval", o->scrape_interval, "Interval between metric scrapes (default 1s)");
      cmd.add_option("--engine-name", o->engine_name,
                     "The server's engine as NAME[ VERSION] for summary.json when it does not say (GET /version)");
      // The server's deployment (predict's flags), recorded for `servetwin validate --live`.
      add_deployment_options(cmd, o->deployment);
      cmd.add_option("--config-dir", o->config_dir, "Catalog directory for the deployment flags (default: configs/)");
      return [o]() -> int {
        live::LoadConfig c;
        c.target = o->target;
        try {
          c.protocol = live::protocol_from_string(o->protocol);
        } catch (const std::invalid_argument& e) {
          throw UsageError(e.what());
        }
        const bool openai = c.protocol == live::Protocol::kOpenaiCompletions || c.protocol == live::Protocol::kOpenaiChat;
        if (openai) {
          live::HttpTarget t;
          try {
            t = live::parse_http_target(o->target);
          } catch (const std::invalid_argument& e) {
            throw UsageError(e.what());
          }
          if (o->tls) throw UsageError("--tls is for gRPC; for --protocol " + o->protocol + " give an https:// --target");
          if (!t.tls && (o->insecure || !o->ca.empty())) throw UsageError("--insecure and --ca-file need an https:// --target");
          c.tls = t.tls;
          c.tls_insecure = o->insecure;
          c.model_id = o->model_name.empty() ? o->model_id : o->model_name;
        } else {
          if (o->tls && o->insecure) throw UsageError("--tls and --insecure are mutually exclusive");
          if (!o->ca.empty() && !o->tls) throw UsageError("--ca needs --tls");
          if (!o->model_name.empty() || !o->api_key.empty()) {
            throw UsageError("--model-name and --api-key are for the OpenAI protocols (gRPC: --model-id)");
          }
          c.tls = o->tls;
          c.model_id = o->model_id;
        }
        c.ca_file = o->ca;
        c.api_key = o->api_key;
        c.temperature = o->temperature;
        c.ignore_eos = !o->no_ignore_eos;
        apply_load_shape(o->workload, c);
        const WorkloadChoice choice = workload_choice(o->workload);
        // What the reports name as the dataset: the file, else synthetic lengths, else the catalog workload.
        c.dataset_path = !choice.dataset_path.empty() ? choice.dataset_path
                         : choice.lengths             ? std::string("synthetic")
                                                      : "workload:" + choice.workload;
        if (!o->duration_s && o->requests <= 0) throw UsageError("give --duration D or --requests N (> 0)");
        c.duration_s = o->duration_s.value_or(0);  // > 0 when given (limits::kDurationS)
        c.requests = o->requests;
        if (!o->warmup.empty()) {
          if (live::has_duration_unit(o->warmup)) {
            c.warmup_s = duration_flag(o->warmup, "--warmup");
          } else {
            try {
              std::size_t pos = 0;
              c.warmup_requests = std::stoll(o->warmup, &pos);
              if (pos != o->warmup.size() || c.warmup_requests < 0) throw std::invalid_argument("bad");
            } catch (const std::exception&) {
              throw UsageError("--warmup: '" + o->warmup + "' is neither a duration (10s) nor a request count");
            }
          }
        }
        c.timeout_s = duration_flag(o->timeout, "--timeout");
        if (!(c.timeout_s > 0)) throw UsageError("--timeout must be > 0");
        c.ready_timeout_s = duration_flag(o->ready_timeout, "--ready-timeout");
        c.stream = !o->unary;
        c.out_dir = o->out;
        if (!o->formats.empty()) c.out_formats = formats::parse_out_formats(o->formats);
        c.seed = o->workload.seed.value_or(Scenario{}.seed);  // predict's default seed
        c.connections = o->connections;
        c.poll_threads = o->threads;
        c.progress = !o->quiet;
        const Catalog catalog =
            Catalog::load(o->config_dir.empty() ? default_config_dir() : std::filesystem::path(o->config_dir));
        std::string tokenizer;  // the served model's, for a dataset's token counts (as predict reads them)
        if (!o->deployment.d.model.empty()) {
          // Resolved now, so a wrong name fails before the load instead of at validation time.
          const DeploymentConfig d = resolve_deployment(catalog, o->deployment.resolved_flags());
          c.server_deployment = to_json(d);
          tokenizer = catalog.model(d.model).tokenizer;
        }
        apply_fault_options(*o, c);
        live::PromptSupply prompts(resolve_workload(catalog, choice, tokenizer));
        g_stop.store(false);
        g_cancel_now.store(false);
        struct sigaction sa{};
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, nullptr);
        sigaction(SIGTERM, &sa, nullptr);
        live::ServerObserver observer(observer_options(*o, openai), c.out_dir);
        live::LoadRunner runner(c, std::move(prompts));
        observer.start();
        live::LoadResult res;
        try {
          res = runner.run(&g_stop, &g_cancel_now);
        } catch (const live::ProtocolMismatchError& e) {
          throw UsageError(e.what());  // the wrong --protocol for this --target: bad input, exit 2
        }
        if (const std::string note = observer.finish(res.t0); !note.empty()) std::cerr << "servetwin load: " << note << "\n";
        std::cerr << fmt::format("servetwin load: {} measured requests; wrote {}/summary.json, requests.csv, "
                                 "messages.csv, schedule.csv, llm-load-test/\n",
                                 res.records.size(), c.out_dir.string());
        if (res.partial) {
          std::cerr << "servetwin load: partial run: " << res.partial_reason << "\n";
          return kExitFailure;
        }
        return kExitOk;
      };
    }}};

}  // namespace
}  // namespace servetwin::cli
