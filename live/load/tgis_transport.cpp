// TGIS (fmaas.GenerationService) over gRPC: GenerateStream / Generate, readiness by ModelInfo,
// the server's token counts by Tokenize (for synthetic prompts, prompt_tokens.hpp).
// Requests as llm-load-test sends them: GREEDY, min/max_new_tokens from the dataset; streaming
// asks for ResponseOptions.generated_tokens.
#include <fmt/format.h>

#include "live/load/grpc_transport.hpp"
#include "proto/fmaas_generation.grpc.pb.h"

namespace servetwin::live {
namespace {

MsgInfo parse_stream(const fmaas::GenerationResponse& r) {
  MsgInfo m;
  // With ResponseOptions.input_text the ack echoes the prompt in `text`; it is still not output.
  m.carries_output = r.generated_token_count() > 0 || r.tokens_size() > 0 ||
                     (!r.text().empty() && r.input_token_count() == 0);
  m.cumulative_tokens = r.generated_token_count();
  m.input_tokens = r.input_token_count();
  const int stop = static_cast<int>(r.stop_reason());
  m.stop_reason = grpc_stop_reason_name(stop);
  return m;
}

std::string parse_batch(const fmaas::BatchedGenerationResponse& r, MsgInfo& m) {
  if (r.responses_size() != 1) return fmt::format("unary response has {} results, expected 1", r.responses_size());
  m = parse_stream(r.responses(0));
  return {};
}

class TgisTransport final : public GrpcTransport {
 public:
  using GrpcTransport::GrpcTransport;

  nlohmann::json wait_until_ready() override {
    auto stub = fmaas::GenerationService::NewStub(make_grpc_channel(cfg_, 0));
    const char* what = "TGIS fmaas.GenerationService/ModelInfo";
    auto attempt = [&](std::chrono::steady_clock::duration limit, std::string& last) -> nlohmann::json {
      grpc::ClientContext ctx;
      set_attempt_deadline(ctx, limit);
      fmaas::ModelInfoRequest req;
      req.set_model_id(cfg_.model_id);
      fmaas::ModelInfoResponse resp;
      const auto s = stub->ModelInfo(&ctx, req, &resp);
      if (grpc_wrong_protocol(s)) throw_protocol_mismatch(cfg_, what, s);
      if (!s.ok()) {
        last = std::string(grpc_status_code_name(s.error_code())) + ": " + s.error_message();
        return nullptr;
      }
      return {{"rpc", what},
              {"model_kind", resp.model_kind() == fmaas::ModelInfoResponse::DECODER_ONLY ? "DECODER_ONLY"
                                                                                          : "ENCODER_DECODER"},
              {"max_sequence_length", resp.max_sequence_length()},
              {"max_new_tokens", resp.max_new_tokens()}};
    };
    return retry_until_ready(cfg_, what, attempt);
  }

  ServerTokenCounts count_tokens(const std::vector<std::string>& texts) override {
    ServerTokenCounts out{"TGIS fmaas.GenerationService/Tokenize", {}, {}};
    auto stub = fmaas::GenerationService::NewStub(make_grpc_channel(cfg_, 0));
    grpc::ClientContext ctx;
    set_attempt_deadline(ctx, std::chrono::seconds(10));
    fmaas::BatchedTokenizeRequest req;
    req.set_model_id(cfg_.model_id);
    for (const auto& t : texts) req.add_requests()->set_text(t);
    fmaas::BatchedTokenizeResponse resp;
    const auto s = stub->Tokenize(&ctx, req, &resp);
    if (!s.ok()) {
      out.error = std::string(grpc_status_code_name(s.error_code())) + ": " + s.error_message();
    } else if (resp.responses_size() != static_cast<int>(texts.size())) {
      out.error = fmt::format("{} results for {} texts", resp.responses_size(), texts.size());
    } else {
      for (const auto& r : resp.responses()) out.counts.push_back(r.token_count());
    }
    return out;
  }

  void send(LiveRecord rec, std::int64_t user_slot, const PromptSample& e) override {
    const std::uint64_t id = rec.rec.request_id;
    auto& stub = *stubs_[connection_of(id)];
    grpc::CompletionQueue* cq = queue_of(id);
    auto fill = [&](fmaas::Parameters* p) {
      p->set_method(fmaas::GREEDY);
      p->mutable_stopping()->set_max_new_tokens(static_cast<std::uint32_t>(e.max_new_tokens));
      p->mutable_stopping()->set_min_new_tokens(static_cast<std::uint32_t>(e.min_new_tokens));
    };
    if (cfg_.stream) {
      auto* c = new StreamCall<fmaas::GenerationResponse, parse_stream>(&host_, std::move(rec), user_slot);
      prepare(c, id);
      auto req = std::make_unique<fmaas::SingleGenerationRequest>();
      req->set_model_id(cfg_.model_id);
      req->mutable_request()->set_text(e.text);
      fill(req->mutable_params());
      req->mutable_params()->mutable_response()->set_generated_tokens(true);
      auto reader = stub.PrepareAsyncGenerateStream(&c->ctx_, *req, cq);
      c->request_ = std::move(req);
      c->begin(std::move(reader));
    } else {
      auto* c = new UnaryCall<fmaas::BatchedGenerationResponse, parse_batch>(&host_, std::move(rec), user_slot);
      prepare(c, id);
      auto req = std::make_unique<fmaas::BatchedGenerationRequest>();
      req->set_model_id(cfg_.model_id);
      req->add_requests()->set_text(e.text);
      fill(req->mutable_params());
      auto rpc = stub.PrepareAsyncGenerate(&c->ctx_, *req, cq);
      c->request_ = std::move(req);
      c->begin(std::move(rpc));
    }
  }

 protected:
  void add_stub(const std::shared_ptr<grpc::Channel>& channel) override {
    stubs_.push_back(fmaas::GenerationService::NewStub(channel));
  }

 private:
  std::vector<std::unique_ptr<fmaas::GenerationService::Stub>> stubs_;
};

}  // namespace

std::unique_ptr<Transport> make_tgis_transport(const LoadConfig& cfg, RequestHost& host) {
  return std::make_unique<TgisTransport>(cfg, host);
}

}  // namespace servetwin::live
