// TwinServer: the protocol-neutral engine (twin_engine.cpp) behind one front end: gRPC (the TGIS
// or Caikit adapter plus grpc.health.v1, and optionally /metrics on a side HTTP port) or the
// OpenAI HTTP adapter.
#include "live/twin/twin_server.hpp"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/random/uniform_int_distribution.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "live/twin/grpc_plumbing.hpp"
#include "live/twin/heap_trimmer.hpp"
#include "live/twin/openai_adapter.hpp"
#include "sim/core/rng.hpp"

namespace servetwin::live {

std::int64_t twin_output_tokens(std::uint64_t seed, const std::string& text, std::int64_t min_new,
                                std::int64_t max_new) {
  if (min_new >= max_new) return max_new;
  auto rng = make_rng(seed, "twin-output-length", stable_hash(text));
  boost::random::uniform_int_distribution<std::int64_t> d(std::max<std::int64_t>(min_new, 1), max_new);
  return d(rng);
}

namespace {

// gRPC does not say why a bind failed: a plain socket on the same address does (EADDRINUSE).
bool loopback_port_in_use(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  const int port = std::stoi(host_port.substr(colon + 1));
  if (port == 0) return false;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool in_use = ::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
  ::close(fd);
  return in_use;
}

// Often enough that the soak's 5-s RSS samples see the trimmed heap; a trim runs on its own
// background thread (heap_trimmer.cpp).
constexpr std::chrono::milliseconds kHeapTrimPeriod{2000};

}  // namespace

struct TwinServer::Impl {
  TwinOptions opts;
  SimFactory factory;
  // Declared first so that it dies last: the engine may still hold HTTP exchanges (through its
  // in-flight requests), whose sockets need the HTTP server's io_context.
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<TwinEngine> engine;
  // Services before the server: members die in reverse order, and gRPC requires registered
  // services to outlive the server.
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::unique_ptr<grpc::Server> server;
  int metrics_port = 0;
  // Frees retained malloc pages while the twin runs (heap_trimmer.hpp says why); stopped first.
  std::unique_ptr<HeapTrimmer> trimmer;

  std::mutex shutdown_mu;
  std::condition_variable shutdown_cv;
  bool is_shut = false;

  int start_grpc();
  int start_openai();
};

int TwinServer::Impl::start_grpc() {
  std::string served;
  if (opts.protocol == Protocol::kTgis) {
    services.push_back(make_tgis_service(*engine));
    served = "fmaas.GenerationService";
  } else {
    services.push_back(make_caikit_service(*engine));
    served = "caikit.runtime.Nlp.NlpService";
  }
  services.push_back(make_health_service(served));
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort(opts.listen, grpc::InsecureServerCredentials(), &port);
  // gRPC sets SO_REUSEPORT by default, so a second twin on a taken port would bind and split the
  // traffic; only --reuse-port asks for that.
  b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, opts.reuse_port ? 1 : 0);
  for (auto& s : services) b.RegisterService(s.get());
  b.SetMaxReceiveMessageSize(-1);
  server = b.BuildAndStart();
  if (!server || port == 0) {
    if (!opts.reuse_port && loopback_port_in_use(opts.listen)) {
      throw PortInUseError("port of " + opts.listen + " is already in use (another server listens there; pick another "
                           "--listen port)");
    }
    throw std::runtime_error("twin: cannot listen on " + opts.listen);
  }
  if (!opts.metrics_listen.empty()) {
    http = std::make_unique<HttpServer>(opts.metrics_listen, opts.reuse_port, 1, make_metrics_handler(*engine));
    metrics_port = http->start();
  }
  return port;
}

int TwinServer::Impl::start_openai() {
  http = std::make_unique<HttpServer>(opts.listen, opts.reuse_port, opts.http_threads, make_openai_handler(*engine));
  return http->start();
}

TwinServer::TwinServer(TwinOptions opts, SimFactory factory) : impl_(std::make_unique<Impl>()) {
  disable_abseil_deadlock_detection();
  impl_->opts = std::move(opts);
  impl_->factory = std::move(factory);
}

TwinServer::~TwinServer() { shutdown(); }

int TwinServer::start() {
  Impl& I = *impl_;
  if (!is_loopback_address(I.opts.listen)) {
    throw std::invalid_argument("--listen must be a loopback address (127.0.0.1:PORT or localhost:PORT), got '" +
                                I.opts.listen + "'");
  }
  if (!I.opts.metrics_listen.empty() && !is_loopback_address(I.opts.metrics_listen)) {
    throw std::invalid_argument("--metrics-port: the metrics listener must be loopback, got '" + I.opts.metrics_listen +
                                "'");
  }
  I.engine = std::make_unique<TwinEngine>(I.opts, I.factory);
  I.engine->start();
  I.trimmer = std::make_unique<HeapTrimmer>(kHeapTrimPeriod);
  return I.opts.front_end == TwinFrontEnd::kOpenai ? I.start_openai() : I.start_grpc();
}

void TwinServer::shutdown(int grace_ms) {
  Impl& I = *impl_;
  {
    std::lock_guard lk(I.shutdown_mu);
    if (I.is_shut) return;
    I.is_shut = true;
  }
  I.trimmer.reset();
  const auto deadline = std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms);
  if (I.server) {
    // In-flight calls are cancelled at the deadline; the driver keeps running meanwhile so that
    // their cancellations are processed.
    I.server->Shutdown(deadline);
  } else if (I.engine) {
    // HTTP: let in-flight requests finish within the grace period.
    while (I.engine->in_flight() > 0 && std::chrono::system_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (I.http) I.http->stop();
  if (I.engine) I.engine->stop();
  if (I.server) I.server->Wait();
  I.shutdown_cv.notify_all();
}

void TwinServer::wait() {
  std::unique_lock lk(impl_->shutdown_mu);
  impl_->shutdown_cv.wait(lk, [&] { return impl_->is_shut; });
}

int TwinServer::metrics_port() const { return impl_->metrics_port; }
EngineLimits TwinServer::limits() const { return impl_->engine ? impl_->engine->limits() : EngineLimits{}; }
TwinStats TwinServer::stats() const { return impl_->engine ? impl_->engine->stats() : TwinStats{}; }

std::map<std::string, std::int64_t> TwinServer::first_token_emissions() const {
  return impl_->engine->first_token_emissions();
}

std::map<std::string, std::int64_t> TwinServer::first_token_handoffs() const {
  return impl_->engine->first_token_handoffs();
}

std::vector<TwinSentRecord> TwinServer::sent_log() const { return impl_->engine->sent_log(); }

std::map<std::string, std::pair<TimeNs, TimeNs>> TwinServer::request_times() const {
  return impl_->engine->request_times();
}

std::vector<std::string> TwinServer::submit_order() const { return impl_->engine->submit_order(); }

std::int64_t TwinServer::steady_origin_ns() const { return impl_->engine->steady_origin_ns(); }

}  // namespace servetwin::live
