// The twin's TGIS adapter: fmaas.GenerationService (GenerateStream, Generate with a batch of one,
// Tokenize, ModelInfo) over gRPC, in front of the protocol-neutral TwinEngine.
#include <algorithm>

#include "live/twin/grpc_plumbing.hpp"
#include "proto/fmaas_generation.grpc.pb.h"

namespace servetwin::live {
namespace {

using grpc_twin::GrpcRequest;

// GenerateStream messages: ack (input_token_count only; the prompt with
// ResponseOptions.input_text), one message per token with delta text, cumulative
// generated_token_count and (ResponseOptions.generated_tokens) one TokenInfo, the last one
// carrying stop_reason.
struct TgisMessages {
  using Msg = fmaas::GenerationResponse;
  static Msg ack(const GrpcRequest& r) {
    Msg m;
    m.set_input_token_count(static_cast<std::uint32_t>(r.input_tokens));
    if (r.echo_input) m.set_text(r.prompt);
    return m;
  }
  static Msg token(const GrpcRequest& r, std::int64_t i, bool last) {
    Msg m;
    m.set_text(placeholder_word(i));
    m.set_generated_token_count(static_cast<std::uint32_t>(i + 1));
    if (r.want_tokens) m.add_tokens()->set_text(placeholder_word(i));
    if (last) m.set_stop_reason(static_cast<fmaas::StopReason>(grpc_twin::stop_code(r.stop)));
    return m;
  }
  static Msg close(const GrpcRequest& /*r*/, std::int64_t sent, int reason) {
    Msg m;
    m.set_generated_token_count(static_cast<std::uint32_t>(sent));
    m.set_stop_reason(static_cast<fmaas::StopReason>(reason));
    return m;
  }
};
using TgisStream = grpc_twin::TokenStream<TgisMessages>;

// Generate (unary): one GenerationResponse in the batch.
struct TgisUnary {
  using Resp = fmaas::BatchedGenerationResponse;
  static void fill(Resp& resp, const GrpcRequest& r, const std::string& text, std::int64_t sent, int reason) {
    auto* g = resp.add_responses();
    g->set_input_token_count(static_cast<std::uint32_t>(r.input_tokens));
    g->set_generated_token_count(static_cast<std::uint32_t>(sent));
    g->set_text(text);
    g->set_stop_reason(static_cast<fmaas::StopReason>(reason));
  }
};
using TgisUnaryRequest = grpc_twin::UnaryRequest<TgisUnary>;

AdmitParams admit_params(const std::string& text, const fmaas::Parameters& p) {
  AdmitParams a;
  a.text = text;
  a.max_new_tokens = p.stopping().max_new_tokens();
  a.min_new_tokens = p.stopping().min_new_tokens();
  a.truncate_input_tokens = p.truncate_input_tokens();
  return a;
}

// Pseudo-tokens: consecutive 4-byte pieces, matching the count the twin charges.
void tokenize(const fmaas::BatchedTokenizeRequest& req, fmaas::BatchedTokenizeResponse* resp) {
  for (const auto& r : req.requests()) {
    auto* out = resp->add_responses();
    const std::string& text = r.text();
    std::int64_t n = approx_token_count(text);
    std::size_t start = 0;
    if (req.truncate_input_tokens() > 0 && n > req.truncate_input_tokens()) {
      const std::int64_t drop = n - req.truncate_input_tokens();
      start = static_cast<std::size_t>(drop) * 4;  // truncation keeps the end of the input
      n = req.truncate_input_tokens();
    }
    out->set_token_count(static_cast<std::uint32_t>(n));
    for (std::size_t off = start; off < text.size(); off += 4) {
      if (req.return_tokens()) out->add_tokens(text.substr(off, 4));
      if (req.return_offsets()) {
        auto* o = out->add_offsets();
        o->set_start(static_cast<std::uint32_t>(off));
        o->set_end(static_cast<std::uint32_t>(std::min(off + 4, text.size())));
      }
    }
  }
}

class TgisService final : public fmaas::GenerationService::CallbackService {
 public:
  explicit TgisService(TwinEngine& engine) : engine_(engine) {}

  grpc::ServerWriteReactor<fmaas::GenerationResponse>* GenerateStream(
      grpc::CallbackServerContext* ctx, const fmaas::SingleGenerationRequest* req) override {
    auto r = std::make_shared<TgisStream>(&engine_);
    auto* reactor = grpc_twin::attach(r);
    r->x_request_id = grpc_twin::metadata(ctx, "x-request-id");
    const auto& p = req->params();
    r->echo_input = p.response().input_text();
    r->want_tokens = p.response().generated_tokens();
    grpc_twin::admit_or_refuse(engine_, r, engine_.admit(*r, admit_params(req->request().text(), p)));
    return reactor;
  }

  grpc::ServerUnaryReactor* Generate(grpc::CallbackServerContext* ctx, const fmaas::BatchedGenerationRequest* req,
                                     fmaas::BatchedGenerationResponse* resp) override {
    auto r = std::make_shared<TgisUnaryRequest>(&engine_, resp);
    auto* reactor = grpc_twin::attach(r);
    r->x_request_id = grpc_twin::metadata(ctx, "x-request-id");
    if (req->requests_size() != 1) {
      // The engine model serves one request per call; clients (caikit, llm-load-test) send one.
      engine_.refuse(*r, {TwinCode::kInvalidArgument, "the twin accepts batches of exactly one request"});
      return reactor;
    }
    grpc_twin::admit_or_refuse(engine_, r, engine_.admit(*r, admit_params(req->requests(0).text(), req->params())));
    return reactor;
  }

  grpc::ServerUnaryReactor* Tokenize(grpc::CallbackServerContext* ctx, const fmaas::BatchedTokenizeRequest* req,
                                     fmaas::BatchedTokenizeResponse* resp) override {
    tokenize(*req, resp);
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* ModelInfo(grpc::CallbackServerContext* ctx, const fmaas::ModelInfoRequest* /*req*/,
                                      fmaas::ModelInfoResponse* resp) override {
    resp->set_model_kind(fmaas::ModelInfoResponse::DECODER_ONLY);
    resp->set_max_sequence_length(static_cast<std::uint32_t>(engine_.limits().max_sequence_length));
    resp->set_max_new_tokens(static_cast<std::uint32_t>(engine_.limits().max_new_tokens));
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  TwinEngine& engine_;
};

}  // namespace

std::unique_ptr<grpc::Service> make_tgis_service(TwinEngine& engine) { return std::make_unique<TgisService>(engine); }

}  // namespace servetwin::live
