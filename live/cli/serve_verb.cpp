// `servetwin serve`: the twin server — servetwin's engine model behind the TGIS or Caikit gRPC
// protocol or the OpenAI HTTP API, in real time, with vLLM-named Prometheus /metrics. Built only when the engine factory and the catalog loader exist.
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <thread>

#include "live/twin/twin_server.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/cli/scenario_options.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/engine/serving_sim.hpp"

namespace servetwin::cli {
namespace {

std::atomic<bool> g_serve_stop{false};
extern "C" void on_serve_signal(int /*sig*/) { g_serve_stop.store(true); }

struct ServeOpts {
  std::string protocol = "tgis", listen = "127.0.0.1:8033", served_name, port_file, config_dir, run_for;
  DeploymentOptions deployment;
  std::uint64_t seed = 42;
  std::int64_t default_max_new = 20;
  int metrics_port = -1;  // gRPC front ends: side HTTP port for /metrics (-1 = none, 0 = any free)
  bool reuse_port = false;
};

// --run-for: a positive duration. 0 is refused rather than read as "forever" (issue 20): omitting
// the option is how to run until a signal.
double run_for_seconds(const std::string& text) {
  if (text.empty()) return 0;
  double s = 0;
  try {
    s = live::parse_duration_s(text);
  } catch (const std::exception& e) {
    throw UsageError(std::string("--run-for: ") + e.what());
  }
  if (!(s > 0)) throw UsageError("--run-for must be > 0 (got '" + text + "'); omit it to run until SIGINT/SIGTERM");
  return s;
}

// Fills the twin's front end and listeners from the CLI (all UsageErrors, exit 2).
void set_front_end(const ServeOpts& o, live::TwinOptions& t) {
  if (o.protocol == "openai") {
    t.front_end = live::TwinFrontEnd::kOpenai;
    if (o.metrics_port >= 0) throw UsageError("--metrics-port is for the gRPC protocols; --protocol openai serves /metrics on --listen");
  } else {
    try {
      t.protocol = live::protocol_from_string(o.protocol);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  if (!live::is_loopback_address(o.listen)) {
    throw UsageError("--listen must be a loopback address (127.0.0.1:PORT or localhost:PORT)");
  }
  t.listen = o.listen;
  if (o.metrics_port >= 0) t.metrics_listen = o.listen.substr(0, o.listen.rfind(':')) + ":" + std::to_string(o.metrics_port);
  t.reuse_port = o.reuse_port;
}

const VerbRegistration kServe{Verb{
    "serve", "Serve the simulated engine over TGIS/Caikit gRPC or the OpenAI HTTP API in real time (a twin of the server)",
    [](CLI::App& cmd) -> std::function<int()> {
      auto o = std::make_shared<ServeOpts>();
      cmd.add_option("--protocol", o->protocol, "tgis | caikit | openai")
          ->check(CLI::IsMember({"tgis", "caikit", "openai"}));
      cmd.add_option("--listen", o->listen, "Loopback HOST:PORT (port 0 = any free port)");
      // The deployment flags of `predict` (same names and meaning).
      add_deployment_options(cmd, o->deployment);
      cmd.get_option("--model")->required();
      cmd.add_option("--seed", o->seed, "Seed (output lengths when min_new_tokens < max_new_tokens)");
      cmd.add_option("--config-dir", o->config_dir, "Catalog directory (default: the shipped configs/)");
      cmd.add_option("--model-name", o->served_name, "Model name clients send in mm-model-id (default: --model)");
      cmd.add_option("--default-max-new-tokens", o->default_max_new, "max_new_tokens for requests that send 0");
      cmd.add_option("--port-file", o->port_file, "Write the bound port to this file once listening");
      cmd.add_option("--run-for", o->run_for, "Exit after this long (e.g. 60s; must be > 0); default: until SIGINT/SIGTERM");
      cmd.add_option("--metrics-port", o->metrics_port,
                     "tgis/caikit: also serve Prometheus /metrics (vLLM names) and /health over HTTP on this loopback "
                     "port (0 = any free port)")
          ->check(CLI::Range(0, 65535));
      cmd.add_flag("--reuse-port", o->reuse_port,
                   "Share the port with other servers that also set SO_REUSEPORT (default: a port in use is an error)");
      return [o]() -> int {
        live::TwinOptions t;
        set_front_end(*o, t);
        const double run_for_s = run_for_seconds(o->run_for);
        const DeploymentConfig d = o->deployment.resolved_flags();
        t.seed = o->seed;
        t.model_name = o->served_name.empty() ? d.model : o->served_name;
        t.default_max_new_tokens = o->default_max_new;
        const Catalog catalog = Catalog::load(o->config_dir.empty() ? default_config_dir() : std::filesystem::path(o->config_dir));
        live::TwinServer twin(t, [&catalog, d](EventQueue& q, SimListener* l) {
          return make_serving_sim(catalog, d, q, l);
        });
        g_serve_stop.store(false);
        struct sigaction sa{};
        sa.sa_handler = on_serve_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, nullptr);
        sigaction(SIGTERM, &sa, nullptr);
        int port = 0;
        try {
          port = twin.start();
        } catch (const live::PortInUseError& e) {
          throw UsageError(std::string("--listen / --metrics-port: ") + e.what() + " (--reuse-port shares it)");
        }
        const auto lim = twin.limits();
        const auto colon = o->listen.rfind(':');
        std::cerr << fmt::format("servetwin serve: {} on {}:{} serving '{}' (engine {}, max_sequence_length {}, "
                                 "max_new_tokens {}, max concurrent requests {})\n",
                                 o->protocol, o->listen.substr(0, colon), port, t.model_name, d.engine,
                                 lim.max_sequence_length, lim.max_new_tokens, lim.max_concurrent_requests);
        if (twin.metrics_port() > 0) {
          std::cerr << fmt::format("servetwin serve: Prometheus /metrics on http://{}:{}/metrics\n",
                                   o->listen.substr(0, colon), twin.metrics_port());
        }
        if (!o->port_file.empty()) {
          {
            std::ofstream f(o->port_file + ".tmp");
            f << port << '\n';
          }
          std::filesystem::rename(o->port_file + ".tmp", o->port_file);
        }
        const auto t_start = std::chrono::steady_clock::now();
        while (!g_serve_stop.load()) {
          if (run_for_s > 0 && std::chrono::steady_clock::now() - t_start >= std::chrono::duration<double>(run_for_s)) {
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        twin.shutdown(2000);
        const auto s = twin.stats();
        std::cerr << fmt::format("servetwin serve: stopped; accepted {} completed {} rejected {} invalid {} "
                                 "cancelled {} messages {}\n",
                                 s.accepted, s.completed, s.rejected, s.invalid, s.cancelled, s.messages);
        return kExitOk;
      };
    }}};

}  // namespace
}  // namespace servetwin::cli
