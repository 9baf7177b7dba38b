#include "live/load/grpc_transport.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace servetwin::live {

const char* grpc_status_code_name(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    default: return "UNKNOWN_CODE";
  }
}

namespace {

std::shared_ptr<grpc::ChannelCredentials> make_credentials(const LoadConfig& cfg) {
  if (!cfg.tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions opts;
  if (!cfg.ca_file.empty()) {
    std::ifstream in(cfg.ca_file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read --ca file " + cfg.ca_file);
    std::stringstream ss;
    ss << in.rdbuf();
    opts.pem_root_certs = ss.str();
  }
  return grpc::SslCredentials(opts);
}

}  // namespace

std::shared_ptr<grpc::Channel> make_grpc_channel(const LoadConfig& cfg, int index) {
  grpc::ChannelArguments args;
  // A local subchannel pool plus a distinguishing argument gives each channel its own TCP
  // connection, so --connections really spreads streams over several HTTP/2 connections.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("servetwin.connection_index", index);
  args.SetMaxReceiveMessageSize(-1);
  // Reconnect to a restarted server within a second: gRPC's defaults (1 s growing 1.6x to 120 s)
  // would leave the channel failing every request for minutes after a short outage. The runner's
  // own bound (--reconnect-timeout) decides when to give up.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return grpc::CreateCustomChannel(cfg.target, make_credentials(cfg), args);
}

CallOutcome grpc_outcome(const grpc::Status& s, const std::string& cancel_reason) {
  CallOutcome o;
  o.ok = s.ok();
  o.code = static_cast<int>(s.error_code());
  o.code_name = grpc_status_code_name(s.error_code());
  o.message = s.error_message();
  o.server_unavailable = s.error_code() == grpc::StatusCode::UNAVAILABLE;
  if (o.ok) return o;
  o.error = o.code_name + ": " + s.error_message();
  switch (s.error_code()) {
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      o.failure = RequestStatus::kRejected;
      o.overload = true;
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED: o.failure = RequestStatus::kTimeout; break;
    case grpc::StatusCode::CANCELLED:
      o.failure = cancel_reason.empty() ? RequestStatus::kError : RequestStatus::kUnfinished;
      if (!cancel_reason.empty()) o.error = "CANCELLED by runner: " + cancel_reason;
      break;
    default: o.failure = RequestStatus::kError; break;
  }
  return o;
}

bool grpc_wrong_protocol(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNIMPLEMENTED ||
         s.error_message().find("http1.x server") != std::string::npos;
}

void throw_protocol_mismatch(const LoadConfig& cfg, const std::string& what, const grpc::Status& s) {
  throw ProtocolMismatchError(fmt::format(
      "readiness check: {} answers {} to {}: it does not serve --protocol {} (check --protocol and --target; "
      "allowed: tgis, caikit, openai-completions, openai-chat)",
      cfg.target, std::string(grpc_status_code_name(s.error_code())) + ": " + s.error_message(), what,
      to_string(cfg.protocol)));
}

std::string grpc_stop_reason_name(int code) {
  static const char* kNames[] = {"NOT_FINISHED", "MAX_TOKENS",    "EOS_TOKEN",   "CANCELLED",
                                 "TIME_LIMIT",   "STOP_SEQUENCE", "TOKEN_LIMIT", "ERROR"};
  if (code == 0) return {};
  return code > 0 && code < 8 ? kNames[code] : "UNKNOWN_STOP_REASON";
}

void set_attempt_deadline(grpc::ClientContext& ctx, std::chrono::steady_clock::duration limit) {
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(limit));
}

void GrpcTransport::start(int poll_threads) {
  const int nconn = std::max(1, cfg_.connections);
  for (int i = 0; i < nconn; ++i) {
    channels_.push_back(make_grpc_channel(cfg_, i));
    add_stub(channels_.back());
  }
  for (int i = 0; i < poll_threads; ++i) cqs_.push_back(std::make_unique<grpc::CompletionQueue>());
  for (auto& cq : cqs_) {
    pollers_.emplace_back([this, q = cq.get()] {
      void* tag = nullptr;
      bool ok = false;
      auto next = [q](void** t, bool* o) {
        const GrpcInternalsUnchecked unchecked;
        return q->Next(t, o);
      };
      while (next(&tag, &ok)) {
        handoff_acquire(tag);  // (does nothing without TSan)
        const TimeNs t = host_.now_ns();  // timestamp on receipt, before any processing
        auto* op = static_cast<CqTag*>(tag);
        op->call->proceed(op->op, ok, t);
      }
    });
  }
}

void GrpcTransport::stop() {
  for (auto& cq : cqs_) cq->Shutdown();
  for (auto& th : pollers_) th.join();
  pollers_.clear();
  cqs_.clear();
}

void GrpcTransport::prepare(GrpcCall* c, std::uint64_t request_id, const char* extra_key,
                            const std::string& extra_value) {
  // gRPC deadlines take system_clock time points only.
  c->ctx_.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::duration_cast<std::chrono::system_clock::duration>(
                           std::chrono::duration<double>(cfg_.timeout_s)));
  c->ctx_.AddMetadata("x-request-id", std::to_string(request_id));
  if (extra_key != nullptr && !extra_value.empty()) c->ctx_.AddMetadata(extra_key, extra_value);
  host_.register_live(c);
}

}  // namespace servetwin::live
