// The twin's Caikit adapter: caikit.runtime.Nlp.NlpService (ServerStreamingTextGenerationTaskPredict,
// TextGenerationTaskPredict) over gRPC, in front of the protocol-neutral TwinEngine.
#include "live/twin/grpc_plumbing.hpp"
#include "proto/caikit_runtime_Nlp.grpc.pb.h"

namespace servetwin::live {
namespace {

using grpc_twin::GrpcRequest;

// The same sequence as GeneratedTextStreamResults (caikit-nlp forwards one per TGIS message),
// counts in `details`, one GeneratedToken per token.
struct CaikitMessages {
  using Msg = caikit_data_model::nlp::GeneratedTextStreamResult;
  static Msg details(const GrpcRequest& r, std::int64_t cum, int finish) {
    Msg m;
    auto* d = m.mutable_details();
    d->set_generated_tokens(static_cast<std::uint32_t>(cum));
    d->set_input_token_count(r.input_tokens);
    d->set_finish_reason(static_cast<caikit_data_model::nlp::FinishReason>(finish));
    return m;
  }
  static Msg ack(const GrpcRequest& r) {
    Msg m = details(r, 0, 0);
    if (r.echo_input) m.set_generated_text(r.prompt);
    return m;
  }
  static Msg token(const GrpcRequest& r, std::int64_t i, bool last) {
    Msg m = details(r, i + 1, last ? grpc_twin::stop_code(r.stop) : 0);
    m.set_generated_text(placeholder_word(i));
    m.add_tokens()->set_text(placeholder_word(i));
    return m;
  }
  static Msg close(const GrpcRequest& r, std::int64_t sent, int reason) { return details(r, sent, reason); }
};
using CaikitStream = grpc_twin::TokenStream<CaikitMessages>;

struct CaikitUnary {
  using Resp = caikit_data_model::nlp::GeneratedTextResult;
  static void fill(Resp& resp, const GrpcRequest& r, const std::string& text, std::int64_t sent, int reason) {
    resp.set_generated_text(text);
    resp.set_generated_tokens(sent);
    resp.set_input_token_count(r.input_tokens);
    resp.set_finish_reason(static_cast<caikit_data_model::nlp::FinishReason>(reason));
  }
};
using CaikitUnaryRequest = grpc_twin::UnaryRequest<CaikitUnary>;

class CaikitService final : public caikit::runtime::Nlp::NlpService::CallbackService {
 public:
  explicit CaikitService(TwinEngine& engine) : engine_(engine) {}

  // Caikit routes on the `mm-model-id` header; a different model name is NOT_FOUND.
  [[nodiscard]] TwinStatus check_model(grpc::CallbackServerContext* ctx) const {
    const std::string m = grpc_twin::metadata(ctx, "mm-model-id");
    const std::string& served = engine_.options().model_name;
    if (!m.empty() && m != served) {
      return {TwinCode::kNotFound, "model '" + m + "' is not loaded (this twin serves '" + served + "')"};
    }
    return {};
  }

  template <class Req>
  TwinStatus admit(GrpcRequest& r, grpc::CallbackServerContext* ctx, const Req& req) {
    TwinStatus s = check_model(ctx);
    if (!s.ok()) return s;
    if (req.has_decoding_method() && req.decoding_method() != "GREEDY" && req.decoding_method() != "SAMPLING") {
      return {TwinCode::kInvalidArgument, "decoding_method must be GREEDY or SAMPLING"};
    }
    r.echo_input = req.has_preserve_input_text() && req.preserve_input_text();
    AdmitParams a;
    a.text = req.text();
    a.max_new_tokens = req.has_max_new_tokens() ? req.max_new_tokens() : 0;
    a.min_new_tokens = req.has_min_new_tokens() ? req.min_new_tokens() : 0;
    a.truncate_input_tokens = req.has_truncate_input_tokens() ? req.truncate_input_tokens() : 0;
    return engine_.admit(r, a);
  }

  grpc::ServerWriteReactor<caikit_data_model::nlp::GeneratedTextStreamResult>* ServerStreamingTextGenerationTaskPredict(
      grpc::CallbackServerContext* ctx, const caikit::runtime::Nlp::ServerStreamingTextGenerationTaskRequest* req) override {
    auto r = std::make_shared<CaikitStream>(&engine_);
    auto* reactor = grpc_twin::attach(r);
    r->x_request_id = grpc_twin::metadata(ctx, "x-request-id");
    grpc_twin::admit_or_refuse(engine_, r, admit(*r, ctx, *req));
    return reactor;
  }

  grpc::ServerUnaryReactor* TextGenerationTaskPredict(grpc::CallbackServerContext* ctx,
                                                      const caikit::runtime::Nlp::TextGenerationTaskRequest* req,
                                                      caikit_data_model::nlp::GeneratedTextResult* resp) override {
    auto r = std::make_shared<CaikitUnaryRequest>(&engine_, resp);
    auto* reactor = grpc_twin::attach(r);
    r->x_request_id = grpc_twin::metadata(ctx, "x-request-id");
    grpc_twin::admit_or_refuse(engine_, r, admit(*r, ctx, *req));
    return reactor;
  }

 private:
  TwinEngine& engine_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_caikit_service(TwinEngine& engine) {
  return std::make_unique<CaikitService>(engine);
}

}  // namespace servetwin::live
