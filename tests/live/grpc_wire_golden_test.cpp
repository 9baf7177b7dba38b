// The gRPC transports' bytes on the wire and the runner's outputs, against a golden file recorded
// on the runner before the transport seam was introduced (commit 6f17c12). A recording gRPC server
// (synchronous, in this file) keeps every request message serialized, with the metadata the runner
// sets, and answers with a fixed script keyed by x-request-id: OK streams, a RESOURCE_EXHAUSTED
// rejection and a protocol violation (cumulative count going backwards). One closed-loop user, so
// the request order is deterministic.
// Re-record (only when the wire format is meant to change): SERVETWIN_RECORD_GOLDEN=1 live_tests
//   --gtest_filter='GrpcWireGolden.*'
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <sstream>

#include "proto/caikit_runtime_Nlp.grpc.pb.h"
#include "proto/fmaas_generation.grpc.pb.h"
#include "proto/grpc_health_v1.grpc.pb.h"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

std::string hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : bytes) {
    out += kDigits[c >> 4U];
    out += kDigits[c & 15U];
  }
  return out;
}

// Every RPC the server received: method, the metadata the runner sets, the deadline rounded to
// seconds, and the request message's bytes.
class WireLog {
 public:
  void add(const std::string& method, const grpc::ServerContext& ctx, const google::protobuf::Message& req) {
    auto meta = [&](const char* key) {
      const auto it = ctx.client_metadata().find(key);
      return it == ctx.client_metadata().end() ? std::string("-") : std::string(it->second.data(), it->second.size());
    };
    const auto left = ctx.deadline() - std::chrono::system_clock::now();
    const long deadline_s =
        ctx.deadline() == std::chrono::system_clock::time_point::max()
            ? -1
            : std::lround(std::chrono::duration<double>(left).count());
    std::lock_guard lk(mu_);
    lines_.push_back(method + " x-request-id=" + meta("x-request-id") + " mm-model-id=" + meta("mm-model-id") +
                     " deadline_s=" + std::to_string(deadline_s) + " body=" + hex(req.SerializeAsString()));
  }
  std::vector<std::string> lines() {
    std::lock_guard lk(mu_);
    return lines_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> lines_;
};

// The script: request id % 4 == 2 is rejected, == 3 sends a count that goes backwards (stream).
int script_case(const grpc::ServerContext& ctx) {
  const auto it = ctx.client_metadata().find("x-request-id");
  if (it == ctx.client_metadata().end()) return 0;
  return std::stoi(std::string(it->second.data(), it->second.size())) % 4;
}

class RecordingTgis final : public fmaas::GenerationService::Service {
 public:
  explicit RecordingTgis(WireLog& log) : log_(log) {}
  grpc::Status ModelInfo(grpc::ServerContext* ctx, const fmaas::ModelInfoRequest* req,
                         fmaas::ModelInfoResponse* resp) override {
    log_.add("ModelInfo", *ctx, *req);
    resp->set_max_sequence_length(2048);
    resp->set_max_new_tokens(512);
    return grpc::Status::OK;
  }
  grpc::Status GenerateStream(grpc::ServerContext* ctx, const fmaas::SingleGenerationRequest* req,
                              grpc::ServerWriter<fmaas::GenerationResponse>* w) override {
    log_.add("GenerateStream", *ctx, *req);
    const int c = script_case(*ctx);
    if (c == 2) return {grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full"};
    fmaas::GenerationResponse m;
    m.set_input_token_count(5);
    w->Write(m);
    for (int i = 1; i <= 3; ++i) {
      fmaas::GenerationResponse t;
      t.set_generated_token_count(c == 3 && i == 3 ? 1 : i);
      t.set_text("w");
      if (i == 3) t.set_stop_reason(fmaas::MAX_TOKENS);
      w->Write(t);
    }
    return grpc::Status::OK;
  }
  grpc::Status Generate(grpc::ServerContext* ctx, const fmaas::BatchedGenerationRequest* req,
                        fmaas::BatchedGenerationResponse* resp) override {
    log_.add("Generate", *ctx, *req);
    if (script_case(*ctx) == 2) return {grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full"};
    auto* r = resp->add_responses();
    r->set_input_token_count(5);
    r->set_generated_token_count(3);
    r->set_text("w w w");
    r->set_stop_reason(fmaas::MAX_TOKENS);
    return grpc::Status::OK;
  }

 private:
  WireLog& log_;
};

class RecordingCaikit final : public caikit::runtime::Nlp::NlpService::Service {
 public:
  explicit RecordingCaikit(WireLog& log) : log_(log) {}
  grpc::Status ServerStreamingTextGenerationTaskPredict(
      grpc::ServerContext* ctx, const caikit::runtime::Nlp::ServerStreamingTextGenerationTaskRequest* req,
      grpc::ServerWriter<caikit_data_model::nlp::GeneratedTextStreamResult>* w) override {
    log_.add("ServerStreamingTextGenerationTaskPredict", *ctx, *req);
    const int c = script_case(*ctx);
    if (c == 2) return {grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full"};
    caikit_data_model::nlp::GeneratedTextStreamResult m;
    m.mutable_details()->set_input_token_count(5);
    w->Write(m);
    for (int i = 1; i <= 3; ++i) {
      caikit_data_model::nlp::GeneratedTextStreamResult t;
      t.set_generated_text("w");
      t.mutable_details()->set_generated_tokens(static_cast<std::uint32_t>(c == 3 && i == 3 ? 1 : i));
      if (i == 3) t.mutable_details()->set_finish_reason(caikit_data_model::nlp::MAX_TOKENS);
      w->Write(t);
    }
    return grpc::Status::OK;
  }
  grpc::Status TextGenerationTaskPredict(grpc::ServerContext* ctx,
                                         const caikit::runtime::Nlp::TextGenerationTaskRequest* req,
                                         caikit_data_model::nlp::GeneratedTextResult* resp) override {
    log_.add("TextGenerationTaskPredict", *ctx, *req);
    if (script_case(*ctx) == 2) return {grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full"};
    resp->set_generated_text("w w w");
    resp->set_generated_tokens(3);
    resp->set_input_token_count(5);
    resp->set_finish_reason(caikit_data_model::nlp::MAX_TOKENS);
    return grpc::Status::OK;
  }

 private:
  WireLog& log_;
};

class RecordingHealth final : public grpc::health::v1::Health::Service {
 public:
  explicit RecordingHealth(WireLog& log) : log_(log) {}
  grpc::Status Check(grpc::ServerContext* ctx, const grpc::health::v1::HealthCheckRequest* req,
                     grpc::health::v1::HealthCheckResponse* resp) override {
    log_.add("Check", *ctx, *req);
    resp->set_status(grpc::health::v1::HealthCheckResponse::SERVING);
    return grpc::Status::OK;
  }

 private:
  WireLog& log_;
};

// One run of the runner against the recording server: the wire log, then the outputs that do not
// depend on time (per record: ids, counts, status, stop reason, error, message token counts; per
// stage: status counts; the resolved config without the target's port).
std::vector<std::string> wire_and_outputs(live::Protocol protocol, bool stream, const std::string& tag) {
  WireLog log;
  RecordingTgis tgis(log);
  RecordingCaikit caikit(log);
  RecordingHealth health(log);
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&tgis);
  b.RegisterService(&caikit);
  b.RegisterService(&health);
  auto server = b.BuildAndStart();
  const auto dir = temp_dir("golden-" + tag);
  const auto ds_path = write_dataset(dir, 8, 3, 9);
  auto cfg = base_config(port, ds_path, dir / "out");
  cfg.protocol = protocol;
  cfg.model_id = "golden-model";
  cfg.stream = stream;
  cfg.concurrency = {1};
  cfg.requests = 8;
  cfg.poll_threads = 1;  // recorded in resolved_config; the default depends on the machine
  std::vector<std::string> out;
  {
    live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
    const auto res = runner.run(nullptr);
    out = log.lines();
    for (const auto& r : res.records) {
      std::ostringstream s;
      s << "record id=" << r.rec.request_id << " user=" << r.rec.user_id << " stage=" << r.rec.stage
        << " input_id=" << r.input_id << " in=" << r.rec.input_tokens << " out=" << r.rec.output_tokens
        << " status=" << to_string(r.rec.status) << " stop=" << r.rec.stop_reason << " code=" << r.status_code
        << " error=" << r.rec.error << " message_tokens=";
      for (const auto& m : r.messages) s << m.second << ';';
      out.push_back(s.str());
    }
    auto rc = res.summary["scenarios"][0]["resolved_config"];
    rc.erase("target");  // the port is picked per run
    rc["dataset"].erase("path");  // a per-process temp dir
    out.push_back("resolved_config " + rc.dump());
    out.push_back("status_counts " + res.summary["scenarios"][0]["stages"][0]["grpc_status_counts"].dump());
    out.push_back("partial " + res.summary["partial"].dump());
  }
  server->Shutdown();
  std::filesystem::remove_all(dir);
  return out;
}

void check_against_golden(live::Protocol protocol, bool stream, const std::string& tag) {
  const auto got = wire_and_outputs(protocol, stream, tag);
  const std::filesystem::path golden =
      std::filesystem::path(SERVETWIN_SOURCE_DIR) / "tests/live/data" / ("grpc_wire_" + tag + ".golden");
  if (std::getenv("SERVETWIN_RECORD_GOLDEN") != nullptr) {
    std::filesystem::create_directories(golden.parent_path());
    std::ofstream f(golden);
    for (const auto& l : got) f << l << '\n';
    GTEST_SKIP() << "recorded " << golden;
  }
  const auto want = read_lines(golden);
  ASSERT_FALSE(want.empty()) << "missing golden file " << golden;
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i], want[i]) << "line " << i + 1 << " of " << golden;
}

TEST(GrpcWireGolden, TgisStream) { check_against_golden(live::Protocol::kTgis, true, "tgis_stream"); }
TEST(GrpcWireGolden, TgisUnary) { check_against_golden(live::Protocol::kTgis, false, "tgis_unary"); }
TEST(GrpcWireGolden, CaikitStream) { check_against_golden(live::Protocol::kCaikit, true, "caikit_stream"); }
TEST(GrpcWireGolden, CaikitUnary) { check_against_golden(live::Protocol::kCaikit, false, "caikit_unary"); }

}  // namespace
}  // namespace servetwin::testing
