// The twin speaks the real servers' wire protocols: message sequences, status codes, ModelInfo,
// Tokenize, health, cancellation.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "proto/caikit_runtime_Nlp.grpc.pb.h"
#include "proto/fmaas_generation.grpc.pb.h"
#include "proto/grpc_health_v1.grpc.pb.h"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

struct Twin {
  explicit Twin(live::Protocol p, FakeEngineParams params = {}) {
    live::TwinOptions o;
    o.protocol = p;
    o.model_name = "m";
    server = std::make_unique<live::TwinServer>(o, fake_factory(params));
    port = server->start();
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  }
  std::unique_ptr<live::TwinServer> server;
  int port = 0;
  std::shared_ptr<grpc::Channel> channel;
};

fmaas::SingleGenerationRequest tgis_request(const std::string& text, std::uint32_t min_new, std::uint32_t max_new) {
  fmaas::SingleGenerationRequest r;
  r.mutable_request()->set_text(text);
  r.mutable_params()->mutable_stopping()->set_min_new_tokens(min_new);
  r.mutable_params()->mutable_stopping()->set_max_new_tokens(max_new);
  return r;
}

TEST(TwinProtocol, TgisStreamSequence) {
  Twin t(live::Protocol::kTgis);
  auto stub = fmaas::GenerationService::NewStub(t.channel);
  grpc::ClientContext ctx;
  auto req = tgis_request(std::string(40, 'x'), 5, 5);  // 40 bytes = 10 tokens
  auto reader = stub->GenerateStream(&ctx, req);
  std::vector<fmaas::GenerationResponse> msgs;
  fmaas::GenerationResponse m;
  while (reader->Read(&m)) msgs.push_back(m);
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_EQ(msgs.size(), 6U);  // ack + one message per token
  EXPECT_EQ(msgs[0].input_token_count(), 10U);
  EXPECT_EQ(msgs[0].generated_token_count(), 0U);
  EXPECT_TRUE(msgs[0].text().empty());
  EXPECT_EQ(msgs[0].stop_reason(), fmaas::NOT_FINISHED);
  std::string text;
  for (std::size_t i = 1; i < msgs.size(); ++i) {
    EXPECT_EQ(msgs[i].generated_token_count(), i) << i;        // cumulative
    EXPECT_EQ(msgs[i].text(), live::placeholder_word(static_cast<std::int64_t>(i - 1)));  // delta
    EXPECT_EQ(msgs[i].stop_reason(), i + 1 == msgs.size() ? fmaas::MAX_TOKENS : fmaas::NOT_FINISHED);
    text += msgs[i].text();
  }
  EXPECT_EQ(text, " lorem ipsum dolor sit amet");
}

TEST(TwinProtocol, TgisUnaryModelInfoTokenizeHealth) {
  Twin t(live::Protocol::kTgis);
  auto stub = fmaas::GenerationService::NewStub(t.channel);
  {
    grpc::ClientContext ctx;
    fmaas::BatchedGenerationRequest req;
    req.add_requests()->set_text("abcdefgh");
    req.mutable_params()->mutable_stopping()->set_max_new_tokens(3);
    req.mutable_params()->mutable_stopping()->set_min_new_tokens(3);
    fmaas::BatchedGenerationResponse resp;
    ASSERT_TRUE(stub->Generate(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.responses_size(), 1);
    EXPECT_EQ(resp.responses(0).generated_token_count(), 3U);
    EXPECT_EQ(resp.responses(0).input_token_count(), 2U);
    EXPECT_EQ(resp.responses(0).text(), " lorem ipsum dolor");
    EXPECT_EQ(resp.responses(0).stop_reason(), fmaas::MAX_TOKENS);
  }
  {
    grpc::ClientContext ctx;
    fmaas::ModelInfoResponse resp;
    ASSERT_TRUE(stub->ModelInfo(&ctx, fmaas::ModelInfoRequest{}, &resp).ok());
    EXPECT_EQ(resp.max_sequence_length(), 4096U);
    EXPECT_EQ(resp.max_new_tokens(), 1024U);
    EXPECT_EQ(resp.model_kind(), fmaas::ModelInfoResponse::DECODER_ONLY);
  }
  {
    grpc::ClientContext ctx;
    fmaas::BatchedTokenizeRequest req;
    req.add_requests()->set_text("abcdefghij");
    req.set_return_tokens(true);
    fmaas::BatchedTokenizeResponse resp;
    ASSERT_TRUE(stub->Tokenize(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.responses(0).token_count(), 3U);
    ASSERT_EQ(resp.responses(0).tokens_size(), 3);
    EXPECT_EQ(resp.responses(0).tokens(2), "ij");
  }
  {
    auto h = grpc::health::v1::Health::NewStub(t.channel);
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(h->Check(&ctx, grpc::health::v1::HealthCheckRequest{}, &resp).ok());
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    grpc::ClientContext ctx2;
    grpc::health::v1::HealthCheckRequest other;
    other.set_service("nope");
    EXPECT_EQ(h->Check(&ctx2, other, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

TEST(TwinProtocol, InvalidArgumentsAreRejected) {
  FakeEngineParams p;
  p.max_sequence_length = 100;
  p.max_new_tokens = 50;
  Twin t(live::Protocol::kTgis, p);
  auto stub = fmaas::GenerationService::NewStub(t.channel);
  auto code = [&](const fmaas::SingleGenerationRequest& r) {
    grpc::ClientContext ctx;
    auto reader = stub->GenerateStream(&ctx, r);
    fmaas::GenerationResponse m;
    while (reader->Read(&m)) {
    }
    return reader->Finish().error_code();
  };
  EXPECT_EQ(code(tgis_request(std::string(400, 'a'), 1, 1)), grpc::StatusCode::INVALID_ARGUMENT);  // 100 tokens
  EXPECT_EQ(code(tgis_request("hi", 5, 4)), grpc::StatusCode::INVALID_ARGUMENT);   // min > max
  EXPECT_EQ(code(tgis_request("hi", 1, 51)), grpc::StatusCode::INVALID_ARGUMENT);  // above ModelInfo max
  EXPECT_EQ(code(tgis_request("hi", 1, 50)), grpc::StatusCode::OK);
  EXPECT_EQ(t.server->stats().invalid, 3);
}

TEST(TwinProtocol, ContextLimitStopsWithTokenLimit) {
  FakeEngineParams p;
  p.max_sequence_length = 20;
  Twin t(live::Protocol::kTgis, p);
  auto stub = fmaas::GenerationService::NewStub(t.channel);
  grpc::ClientContext ctx;
  auto reader = stub->GenerateStream(&ctx, tgis_request(std::string(60, 'a'), 10, 10));  // 15 + 10 > 20
  fmaas::GenerationResponse m, last;
  int n = 0;
  while (reader->Read(&m)) {
    last = m;
    ++n;
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, 6);  // ack + 5 tokens
  EXPECT_EQ(last.stop_reason(), fmaas::TOKEN_LIMIT);
}

TEST(TwinProtocol, CaikitStreamSequenceAndModelHeader) {
  Twin t(live::Protocol::kCaikit);
  auto stub = caikit::runtime::Nlp::NlpService::NewStub(t.channel);
  caikit::runtime::Nlp::ServerStreamingTextGenerationTaskRequest req;
  req.set_text(std::string(20, 'y'));
  req.set_max_new_tokens(3);
  req.set_min_new_tokens(3);
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("mm-model-id", "m");
    auto reader = stub->ServerStreamingTextGenerationTaskPredict(&ctx, req);
    std::vector<caikit_data_model::nlp::GeneratedTextStreamResult> msgs;
    caikit_data_model::nlp::GeneratedTextStreamResult m;
    while (reader->Read(&m)) msgs.push_back(m);
    ASSERT_TRUE(reader->Finish().ok());
    ASSERT_EQ(msgs.size(), 4U);
    EXPECT_TRUE(msgs[0].generated_text().empty());
    EXPECT_EQ(msgs[0].details().input_token_count(), 5);
    EXPECT_EQ(msgs[0].details().generated_tokens(), 0U);
    for (std::size_t i = 1; i < 4; ++i) {
      EXPECT_EQ(msgs[i].details().generated_tokens(), i);
      EXPECT_EQ(msgs[i].generated_text(), live::placeholder_word(static_cast<std::int64_t>(i - 1)));
      ASSERT_EQ(msgs[i].tokens_size(), 1);
    }
    EXPECT_EQ(msgs[3].details().finish_reason(), caikit_data_model::nlp::MAX_TOKENS);
    EXPECT_EQ(msgs[2].details().finish_reason(), caikit_data_model::nlp::NOT_FINISHED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("mm-model-id", "other-model");
    auto reader = stub->ServerStreamingTextGenerationTaskPredict(&ctx, req);
    caikit_data_model::nlp::GeneratedTextStreamResult m;
    while (reader->Read(&m)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("mm-model-id", "m");
    caikit::runtime::Nlp::TextGenerationTaskRequest u;
    u.set_text("abcd");
    u.set_max_new_tokens(2);
    u.set_min_new_tokens(2);
    caikit_data_model::nlp::GeneratedTextResult r;
    ASSERT_TRUE(stub->TextGenerationTaskPredict(&ctx, u, &r).ok());
    EXPECT_EQ(r.generated_tokens(), 2);
    EXPECT_EQ(r.generated_text(), " lorem ipsum");
    EXPECT_EQ(r.finish_reason(), caikit_data_model::nlp::MAX_TOKENS);
  }
}

TEST(TwinProtocol, OverloadIsResourceExhausted) {
  FakeEngineParams p;
  p.max_concurrent = 2;
  p.step_base_ns = 20 * kNsPerMs;
  Twin t(live::Protocol::kTgis, p);
  auto stub = fmaas::GenerationService::NewStub(t.channel);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, exhausted{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      grpc::ClientContext ctx;
      auto reader = stub->GenerateStream(&ctx, tgis_request("abc", 10, 10));
      fmaas::GenerationResponse m;
      while (reader->Read(&m)) {
      }
      const auto s = reader->Finish();
      if (s.ok()) ++ok;
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) ++exhausted;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok + exhausted, 6);
  EXPECT_GE(ok.load(), 2);
  EXPECT_GE(exhausted.load(), 1);
  EXPECT_EQ(t.server->stats().rejected, exhausted.load());
}

TEST(TwinProtocol, ClientCancellationFreesTheEngine) {
  FakeEngineParams p;
  p.max_concurrent = 1;
  p.step_base_ns = 10 * kNsPerMs;
  Twin t(live::Protocol::kTgis, p);
  auto stub = fmaas::GenerationService::NewStub(t.channel);
  {
    grpc::ClientContext ctx;
    auto reader = stub->GenerateStream(&ctx, tgis_request("abc", 1000, 1000));  // ~10 s if not cancelled
    fmaas::GenerationResponse m;
    ASSERT_TRUE(reader->Read(&m));
    ASSERT_TRUE(reader->Read(&m));
    ctx.TryCancel();
    while (reader->Read(&m)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // The single slot is free again: the next request is served, not RESOURCE_EXHAUSTED.
  for (int i = 0; i < 1000 && t.server->stats().cancelled == 0; ++i) {  // up to 10 s on a loaded machine
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(t.server->stats().cancelled, 1);
  grpc::ClientContext ctx;
  auto reader = stub->GenerateStream(&ctx, tgis_request("abc", 2, 2));
  fmaas::GenerationResponse m;
  int n = 0;
  while (reader->Read(&m)) ++n;
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(n, 3);
}

}  // namespace
}  // namespace servetwin::testing
