#include "live/twin/grpc_plumbing.hpp"

namespace servetwin::live {
namespace grpc_twin {

grpc::Status to_grpc(const TwinStatus& s) {
  switch (s.code) {
    case TwinCode::kOk: return grpc::Status::OK;
    case TwinCode::kInvalidArgument: return {grpc::StatusCode::INVALID_ARGUMENT, s.message};
    case TwinCode::kNotFound: return {grpc::StatusCode::NOT_FOUND, s.message};
    case TwinCode::kResourceExhausted: return {grpc::StatusCode::RESOURCE_EXHAUSTED, s.message};
    case TwinCode::kCancelled: return {grpc::StatusCode::CANCELLED, s.message};
    case TwinCode::kUnavailable: return {grpc::StatusCode::UNAVAILABLE, s.message};
    case TwinCode::kInternal: break;
  }
  return {grpc::StatusCode::INTERNAL, s.message};
}

std::string metadata(grpc::CallbackServerContext* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

int stop_code(TwinStop s) {
  switch (s) {
    case TwinStop::kMaxTokens: return kStopMaxTokens;
    case TwinStop::kEosToken: return kStopEosToken;
    case TwinStop::kTokenLimit: return kStopTokenLimit;
  }
  return kStopMaxTokens;
}

namespace {

class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  explicit HealthService(std::string served) : served_(std::move(served)) {}
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                                  grpc::health::v1::HealthCheckResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    if (req->service().empty() || req->service() == served_) {
      resp->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
      reactor->Finish(grpc::Status::OK);
    } else {
      reactor->Finish({grpc::StatusCode::NOT_FOUND, "unknown service '" + req->service() + "'"});
    }
    return reactor;
  }
  // Watch: the status never changes while the twin runs, so send it once and hold the stream
  // open until the client leaves or the server shuts down.
  class Watcher final : public grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse> {
   public:
    explicit Watcher(grpc::health::v1::HealthCheckResponse::ServingStatus s) {
      msg_.set_status(s);
      handoff_release(this);  // gRPC's threads call it from here on (tsan_handoff.hpp)
      StartWrite(&msg_);
    }
    void OnWriteDone(bool /*ok*/) override {}
    void OnCancel() override {
      handoff_acquire(this);
      Finish(grpc::Status::OK);
    }
    void OnDone() override {
      handoff_acquire(this);
      delete this;
    }

   private:
    grpc::health::v1::HealthCheckResponse msg_;
  };
  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* /*ctx*/, const grpc::health::v1::HealthCheckRequest* req) override {
    return new Watcher(req->service().empty() || req->service() == served_
                           ? grpc::health::v1::HealthCheckResponse::SERVING
                           : grpc::health::v1::HealthCheckResponse::SERVICE_UNKNOWN);
  }

 private:
  std::string served_;
};

}  // namespace
}  // namespace grpc_twin

std::unique_ptr<grpc::Service> make_health_service(const std::string& served) {
  return std::make_unique<grpc_twin::HealthService>(served);
}

}  // namespace servetwin::live
