#pragma once
// What the two gRPC transports (TGIS, Caikit) share: channels, completion queues with their polling
// threads, the call objects (server-streaming and unary) and the gRPC status -> record mapping.
//
// Completion queues, one per polling thread; request i runs on queue i mod n. A thread waiting in
// Next also polls the sockets, so a message is read, parsed and timestamped on one thread, with no
// hand-off to another (the callback API of gRPC 1.51 hands every completion to a `nexting` thread
// and then to an executor thread).
#include <google/protobuf/message.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "live/common/tsan_handoff.hpp"
#include "live/load/runner.hpp"
#include "live/load/transport.hpp"

namespace servetwin::live {

const char* grpc_status_code_name(grpc::StatusCode c);
std::shared_ptr<grpc::Channel> make_grpc_channel(const LoadConfig& cfg, int index);
// How a finished RPC maps onto the record (status, error text, status counts).
CallOutcome grpc_outcome(const grpc::Status& s, const std::string& cancel_reason);
// TGIS StopReason / Caikit FinishReason (same numbering) by name; "" for 0 (NOT_FINISHED).
std::string grpc_stop_reason_name(int code);
// Readiness: whether a status says the server does not speak the protocol asked for (UNIMPLEMENTED:
// no such service or method; or gRPC's report that the target answered HTTP/1.x, e.g. an OpenAI
// server). Then `throw_protocol_mismatch` ends the readiness check at once (exit 2) instead of
// retrying until --ready-timeout, or sending load that can only fail.
bool grpc_wrong_protocol(const grpc::Status& s);
[[noreturn]] void throw_protocol_mismatch(const LoadConfig& cfg, const std::string& what, const grpc::Status& s);
// A readiness attempt's deadline: `limit` from now (gRPC deadlines take system_clock time points).
void set_attempt_deadline(grpc::ClientContext& ctx, std::chrono::steady_clock::duration limit);

// A gRPC request in flight: its context and request message live as long as the call.
class GrpcCall : public InFlight {
 public:
  using InFlight::InFlight;
  // One completed operation of this call (`op`: CallOp; `t`: when the queue returned it).
  virtual void proceed(int op, bool ok, TimeNs t) = 0;
  grpc::ClientContext ctx_;
  std::unique_ptr<google::protobuf::Message> request_;

 protected:
  void abort_io() override { ctx_.TryCancel(); }
  void finish(const grpc::Status& s) {
    on_done(grpc_outcome(s, cancel_reason()));
    unref();
  }
};

// A completion-queue tag: which call, and which of its operations completed. Each operation is
// started after `handoff_release(tag)`, and the polling thread calls `handoff_acquire(tag)` when
// Next returns the tag, before reading it (tsan_handoff.hpp): a call is started on the control
// thread and continued on a polling thread, ordered by gRPC where TSan cannot see it.
struct CqTag {
  GrpcCall* call;
  int op;
};
enum CallOp : int { kOpStart = 0, kOpRead = 1, kOpFinish = 2 };

// Server-streaming call. One operation at a time is outstanding per call (start, then one read
// after another, then finish), always on the call's own queue. `Parse` turns a response into what
// the core needs.
template <class Resp, MsgInfo (*Parse)(const Resp&)>
class StreamCall final : public GrpcCall {
 public:
  using GrpcCall::GrpcCall;
  void begin(std::unique_ptr<grpc::ClientAsyncReader<Resp>> reader) {
    reader_ = std::move(reader);
    auto* r = reader_.get();  // read before the hand-off: the call may end (and die) on a poller
    handoff_release(&start_);
    r->StartCall(&start_);
  }
  void proceed(int op, bool ok, TimeNs t) override {
    switch (op) {
      case kOpStart:
        handoff_release(ok ? &read_ : &finish_);
        if (ok) reader_->Read(&resp_, &read_);
        else reader_->Finish(&status_, &finish_);
        return;
      case kOpRead:
        if (ok && on_message(t, Parse(resp_))) {
          handoff_release(&read_);
          reader_->Read(&resp_, &read_);
          return;
        }
        // End of stream, or a protocol violation (on_message said stop): cancel it, then collect
        // the status.
        if (ok) ctx_.TryCancel();
        handoff_release(&finish_);
        reader_->Finish(&status_, &finish_);
        return;
      default:
        finish(status_);
        return;
    }
  }

 private:
  std::unique_ptr<grpc::ClientAsyncReader<Resp>> reader_;
  Resp resp_;
  grpc::Status status_;
  CqTag start_{this, kOpStart}, read_{this, kOpRead}, finish_{this, kOpFinish};
};

// Unary call: one response; ack = first token = end (no stream to observe). `Parse` fills the
// message and returns a protocol error ("" = none).
template <class Resp, std::string (*Parse)(const Resp&, MsgInfo&)>
class UnaryCall final : public GrpcCall {
 public:
  using GrpcCall::GrpcCall;
  void begin(std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> rpc) {
    rpc_ = std::move(rpc);
    auto* r = rpc_.get();  // read before the hand-off: the call may end (and die) on a poller
    r->StartCall();
    handoff_release(&finish_);  // the only tag this call hands over
    r->Finish(&resp_, &status_, &finish_);
  }
  void proceed(int /*op*/, bool /*ok*/, TimeNs t) override {
    if (status_.ok()) {
      MsgInfo m;
      const std::string bad = Parse(resp_, m);
      if (!bad.empty()) set_protocol_error(bad);
      else on_single_response(t, m);
    }
    finish(status_);
  }

 private:
  std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> rpc_;
  Resp resp_;
  grpc::Status status_;
  CqTag finish_{this, kOpFinish};
};

// The shared part of a gRPC transport: `--connections` channels and the completion queues.
class GrpcTransport : public Transport {
 public:
  GrpcTransport(const LoadConfig& cfg, RequestHost& host) : cfg_(cfg), host_(host) {}
  void start(int poll_threads) override;
  void stop() override;
  [[nodiscard]] const char* status_counts_key() const override { return "grpc_status_counts"; }
  [[nodiscard]] bool uses_tls() const override { return cfg_.tls; }

 protected:
  // Creates the protocol's stub for one channel (called once per connection, in order).
  virtual void add_stub(const std::shared_ptr<grpc::Channel>& channel) = 0;
  // Deadline, x-request-id (and `extra_key` metadata when `extra_value` is not empty),
  // registration with the host: before the call's first operation.
  void prepare(GrpcCall* c, std::uint64_t request_id, const char* extra_key = nullptr,
               const std::string& extra_value = {});
  [[nodiscard]] std::size_t connection_of(std::uint64_t request_id) const { return request_id % channels_.size(); }
  [[nodiscard]] grpc::CompletionQueue* queue_of(std::uint64_t request_id) const {
    return cqs_[request_id % cqs_.size()].get();
  }
  const LoadConfig& cfg_;
  RequestHost& host_;

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<grpc::CompletionQueue>> cqs_;
  std::vector<std::thread> pollers_;
};

}  // namespace servetwin::live
