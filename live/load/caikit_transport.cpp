// Caikit NLP (caikit.runtime.Nlp.NlpService) over gRPC: server-streaming / unary text generation,
// model chosen by `mm-model-id` metadata, readiness by grpc.health.v1 Check == SERVING.
#include "live/load/grpc_transport.hpp"
#include "proto/caikit_runtime_Nlp.grpc.pb.h"
#include "proto/grpc_health_v1.grpc.pb.h"

namespace servetwin::live {
namespace {

MsgInfo parse_stream(const caikit_data_model::nlp::GeneratedTextStreamResult& r) {
  MsgInfo m;
  m.carries_output = !r.generated_text().empty() || r.tokens_size() > 0;
  if (r.has_details()) {
    m.cumulative_tokens = r.details().generated_tokens();
    m.input_tokens = r.details().input_token_count();
    const int stop = static_cast<int>(r.details().finish_reason());
    m.stop_reason = grpc_stop_reason_name(stop);
  }
  return m;
}

std::string parse_unary(const caikit_data_model::nlp::GeneratedTextResult& r, MsgInfo& m) {
  m.carries_output = !r.generated_text().empty();
  m.cumulative_tokens = r.generated_tokens();
  m.input_tokens = r.input_token_count();
  const int stop = static_cast<int>(r.finish_reason());
  m.stop_reason = grpc_stop_reason_name(stop);
  return {};
}

template <class Req>
std::unique_ptr<Req> make_request(const PromptSample& e) {
  auto req = std::make_unique<Req>();
  req->set_text(e.text);
  req->set_max_new_tokens(e.max_new_tokens);
  req->set_min_new_tokens(e.min_new_tokens);
  req->set_decoding_method("GREEDY");
  return req;
}

class CaikitTransport final : public GrpcTransport {
 public:
  using GrpcTransport::GrpcTransport;

  // Health SERVING, then proof that the server has the Caikit NLP service: a TGIS server (or any
  // gRPC server) also answers grpc.health, and load against it would fail request by request.
  nlohmann::json wait_until_ready() override {
    const auto channel = make_grpc_channel(cfg_, 0);
    auto health = grpc::health::v1::Health::NewStub(channel);
    auto nlp = caikit::runtime::Nlp::NlpService::NewStub(channel);
    const char* what = "grpc.health.v1.Health/Check";
    auto attempt = [&](std::chrono::steady_clock::duration limit, std::string& last) -> nlohmann::json {
      grpc::ClientContext ctx;
      set_attempt_deadline(ctx, limit);
      grpc::health::v1::HealthCheckRequest req;
      grpc::health::v1::HealthCheckResponse resp;
      const auto s = health->Check(&ctx, req, &resp);
      const bool serving = s.ok() && resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
      // A server without the health service may still be Caikit: the service check decides.
      if (!serving && s.error_code() != grpc::StatusCode::UNIMPLEMENTED) {
        if (grpc_wrong_protocol(s)) throw_protocol_mismatch(cfg_, what, s);
        last = s.ok() ? "status " + grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status())
                      : std::string(grpc_status_code_name(s.error_code())) + ": " + s.error_message();
        return nullptr;
      }
      return check_nlp_service(*nlp, limit, serving ? "SERVING" : "UNIMPLEMENTED (no health service)", last);
    };
    return retry_until_ready(cfg_, what, attempt);
  }

  // A deliberately invalid TextGenerationTaskPredict (an unknown decoding_method, nothing to
  // generate): a Caikit server rejects it without running the model (INVALID_ARGUMENT, or NOT_FOUND
  // for another model); a server without the service answers UNIMPLEMENTED.
  nlohmann::json check_nlp_service(caikit::runtime::Nlp::NlpService::Stub& nlp, std::chrono::steady_clock::duration limit,
                                   const char* health, std::string& last) const {
    const char* what = "caikit.runtime.Nlp.NlpService/TextGenerationTaskPredict (an invalid request)";
    grpc::ClientContext ctx;
    set_attempt_deadline(ctx, limit);
    if (!cfg_.model_id.empty()) ctx.AddMetadata("mm-model-id", cfg_.model_id);
    caikit::runtime::Nlp::TextGenerationTaskRequest req;
    req.set_decoding_method("servetwin-readiness-probe");
    req.set_max_new_tokens(0);
    caikit_data_model::nlp::GeneratedTextResult resp;
    const auto s = nlp.TextGenerationTaskPredict(&ctx, req, &resp);
    if (grpc_wrong_protocol(s)) throw_protocol_mismatch(cfg_, what, s);
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      last = std::string(grpc_status_code_name(s.error_code())) + ": " + s.error_message();
      return nullptr;
    }
    return {{"rpc", "grpc.health.v1.Health/Check"},
            {"status", health},
            {"service_check", {{"rpc", what}, {"answer", grpc_status_code_name(s.error_code())}}}};
  }

  void send(LiveRecord rec, std::int64_t user_slot, const PromptSample& e) override {
    using caikit::runtime::Nlp::ServerStreamingTextGenerationTaskRequest;
    using caikit::runtime::Nlp::TextGenerationTaskRequest;
    namespace nlp = caikit_data_model::nlp;
    const std::uint64_t id = rec.rec.request_id;
    auto& stub = *stubs_[connection_of(id)];
    grpc::CompletionQueue* cq = queue_of(id);
    if (cfg_.stream) {
      auto* c = new StreamCall<nlp::GeneratedTextStreamResult, parse_stream>(&host_, std::move(rec), user_slot);
      prepare(c, id, "mm-model-id", cfg_.model_id);
      auto req = make_request<ServerStreamingTextGenerationTaskRequest>(e);
      auto reader = stub.PrepareAsyncServerStreamingTextGenerationTaskPredict(&c->ctx_, *req, cq);
      c->request_ = std::move(req);
      c->begin(std::move(reader));
    } else {
      auto* c = new UnaryCall<nlp::GeneratedTextResult, parse_unary>(&host_, std::move(rec), user_slot);
      prepare(c, id, "mm-model-id", cfg_.model_id);
      auto req = make_request<TextGenerationTaskRequest>(e);
      auto rpc = stub.PrepareAsyncTextGenerationTaskPredict(&c->ctx_, *req, cq);
      c->request_ = std::move(req);
      c->begin(std::move(rpc));
    }
  }

 protected:
  void add_stub(const std::shared_ptr<grpc::Channel>& channel) override {
    stubs_.push_back(caikit::runtime::Nlp::NlpService::NewStub(channel));
  }

 private:
  std::vector<std::unique_ptr<caikit::runtime::Nlp::NlpService::Stub>> stubs_;
};

}  // namespace

std::unique_ptr<Transport> make_caikit_transport(const LoadConfig& cfg, RequestHost& host) {
  return std::make_unique<CaikitTransport>(cfg, host);
}

}  // namespace servetwin::live
