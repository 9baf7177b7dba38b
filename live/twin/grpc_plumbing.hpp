#pragma once
// Shared gRPC plumbing of the twin's TGIS and Caikit adapters: status mapping, a server stream with
// an outgoing queue, the streaming and unary request sinks (parameterized by each protocol's
// message traits), and grpc.health.v1. Internal to live/twin.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "live/common/tsan_handoff.hpp"
#include "live/common/util.hpp"
#include "live/twin/twin_engine.hpp"
#include "proto/grpc_health_v1.grpc.pb.h"

namespace servetwin::live {

std::unique_ptr<grpc::Service> make_tgis_service(TwinEngine& engine);
std::unique_ptr<grpc::Service> make_caikit_service(TwinEngine& engine);
std::unique_ptr<grpc::Service> make_health_service(const std::string& served);

namespace grpc_twin {

grpc::Status to_grpc(const TwinStatus& s);
std::string metadata(grpc::CallbackServerContext* ctx, const char* key);

// Both protocols number stop reasons alike: MAX_TOKENS 1, EOS_TOKEN 2, TOKEN_LIMIT 6.
constexpr int kStopMaxTokens = 1;
constexpr int kStopEosToken = 2;
constexpr int kStopTokenLimit = 6;
int stop_code(TwinStop s);
// The stop code of a finished request: EOS when the engine stopped before the planned length.
inline int final_stop_code(const TwinRequest& r, std::int64_t sent) {
  return sent < r.output_tokens ? kStopEosToken : stop_code(r.stop);
}

// Protocol flags the message builders read (set by the adapter from the wire request).
struct GrpcRequest : TwinRequest {
  bool echo_input = false;   // TGIS input_text / Caikit preserve_input_text
  bool want_tokens = false;  // TGIS ResponseOptions.generated_tokens
};

// gRPC's OnCancel and OnDone of a request's reactor (both reactors below), after taking over what the
// thread that handed the reactor to gRPC wrote (tsan_handoff.hpp): the engine cancels the request;
// OnDone drops the reactor's reference to it (gRPC is done with the reactor then). The reactor's
// fields come by reference: they are read only after the acquire.
inline void reactor_cancelled(const void* reactor, TwinEngine* const& engine, TwinRequest* const& owner) {
  handoff_acquire(reactor);
  engine->cancel(owner);
}
// Dropping the reference may destroy the request and with it the reactor whose OnDone is running,
// so the pointer is taken out of the reactor first and nothing of the reactor is read afterwards.
// `delete keepalive` straight from the member is not enough: GCC 12 -O2 reloaded the member after
// the request's destructor to pass it to operator delete, a read of freed memory (valgrind: "120
// bytes inside a block of size 448 free'd" in StreamWriter::OnDone) that crashed the twin in
// about 1 run in 3 of LiveFaults.BackoffThrottlesRetriesOnResourceExhausted.
inline void reactor_done(const void* reactor, std::shared_ptr<TwinRequest>*& keepalive) {
  handoff_acquire(reactor);
  std::unique_ptr<std::shared_ptr<TwinRequest>> last_ref(std::exchange(keepalive, nullptr));
  last_ref.reset();  // may destroy the reactor: `keepalive` must not be used after this line
}

// A server stream with an outgoing queue: one write in flight at a time (the callback API's
// rule); Finish only once the queue is drained. Owned by its TokenStream, which OnDone keeps
// alive no longer than OnDone itself (gRPC is done with the reactor then); client cancellation is
// passed to the driver. The message carrying the first generated token is marked: the time it is
// handed to gRPC (StartWrite) is logged, so the runner's timestamp overhead can be measured.
template <class Resp>
class StreamWriter final : public grpc::ServerWriteReactor<Resp> {
 public:
  StreamWriter(TwinEngine* engine, TwinRequest* owner) : engine_(engine), owner_(owner) {}

  void push(Resp&& m, bool first_token = false) {
    std::unique_lock lk(mu_);
    if (finish_requested_) return;
    if (writing_) {
      queue_.push_back(Out{std::move(m), first_token});
      return;
    }
    writing_ = true;
    current_ = std::move(m);
    lk.unlock();
    start_write(first_token);
  }
  void finish_stream(const grpc::Status& s) {
    std::unique_lock lk(mu_);
    if (finish_requested_) return;
    finish_requested_ = true;
    final_status_ = s;
    if (writing_) return;  // OnWriteDone finishes
    lk.unlock();
    handoff_release(this);
    this->Finish(s);
  }
  // gRPC's callbacks: each first takes over what the thread that handed this reactor to gRPC wrote
  // (tsan_handoff.hpp).
  void OnWriteDone(bool ok) override {
    handoff_acquire(this);
    engine_->count_message();  // hot path: no shared lock
    std::unique_lock lk(mu_);
    if (!ok) queue_.clear();  // client gone; OnCancel tells the driver
    if (!queue_.empty()) {
      current_ = std::move(queue_.front().msg);
      const bool first_token = queue_.front().first_token;
      queue_.pop_front();
      lk.unlock();
      start_write(first_token);
      return;
    }
    writing_ = false;
    if (finish_requested_) {
      const grpc::Status s = final_status_;
      lk.unlock();
      handoff_release(this);
      this->Finish(s);
    }
  }
  void OnCancel() override { reactor_cancelled(this, engine_, owner_); }
  void OnDone() override { reactor_done(this, owner_keepalive_); }

  // Set by the owning request object: lets OnDone drop the reactor's reference to it.
  std::shared_ptr<TwinRequest>* owner_keepalive_ = nullptr;

 private:
  struct Out {
    Resp msg;
    bool first_token;
  };
  // Called without mu_ held (gRPC may run callbacks inline).
  void start_write(bool first_token) {
    if (first_token) engine_->log_first_token_handoff(*owner_);
    handoff_release(this);
    this->StartWrite(&current_);
  }

  TwinEngine* engine_;
  TwinRequest* owner_;
  std::mutex mu_;
  std::deque<Out> queue_;
  Resp current_;
  bool writing_ = false;
  bool finish_requested_ = false;
  grpc::Status final_status_;
};

// A streaming generation: the ack goes out with the first token (as the vllm-tgis-adapter sends
// it), then one message per token; an engine that stops early gets a closing message with the
// stop reason. The message contents are the protocol's (Messages: ack, token, close).
template <class Messages>
class TokenStream final : public GrpcRequest {
 public:
  using Msg = typename Messages::Msg;
  explicit TokenStream(TwinEngine* engine) : reactor_(std::make_unique<StreamWriter<Msg>>(engine, this)) {}

  void on_token(std::int64_t i) override {
    if (i == 0) reactor_->push(Messages::ack(*this));
    const bool last = i + 1 == output_tokens;
    if (last) final_sent_ = true;
    reactor_->push(Messages::token(*this, i, last), /*first_token=*/i == 0);
  }
  void on_done(std::int64_t sent) override {
    if (!final_sent_) reactor_->push(Messages::close(*this, sent, final_stop_code(*this, sent)));
    reactor_->finish_stream(grpc::Status::OK);
  }
  void on_fail(const TwinStatus& s) override { reactor_->finish_stream(to_grpc(s)); }

  // The reactor dies with this object: the last reference to it is either the one OnDone drops
  // (inside OnDone, gRPC's last use of the reactor) or the driver's, after OnDone (a finished
  // reactor ignores pushes).
  std::unique_ptr<StreamWriter<Msg>> reactor_;

 private:
  bool final_sent_ = false;
};

// Unary calls (TGIS Generate with a batch of one, Caikit TextGenerationTaskPredict): the response
// is sent when the engine finishes the request; Traits::fill writes the protocol's response.
template <class Traits>
class UnaryRequest final : public GrpcRequest {
 public:
  using Resp = typename Traits::Resp;
  class Reactor final : public grpc::ServerUnaryReactor {
   public:
    Reactor(TwinEngine* engine, UnaryRequest* owner) : engine_(engine), owner_(owner) {}
    void OnCancel() override { reactor_cancelled(this, engine_, owner_); }
    void OnDone() override { reactor_done(this, owner_keepalive_); }
    void finish_once(const grpc::Status& s) {
      if (finished_.exchange(true)) return;
      handoff_release(this);
      Finish(s);
    }
    std::shared_ptr<TwinRequest>* owner_keepalive_ = nullptr;

   private:
    TwinEngine* engine_;
    UnaryRequest* owner_;
    std::atomic<bool> finished_{false};
  };
  UnaryRequest(TwinEngine* engine, Resp* resp) : reactor_(std::make_unique<Reactor>(engine, this)), resp_(resp) {}
  void on_token(std::int64_t i) override { text_ += placeholder_word(i); }
  void on_done(std::int64_t sent) override {
    Traits::fill(*resp_, *this, text_, sent, final_stop_code(*this, sent));
    reactor_->finish_once(grpc::Status::OK);
  }
  void on_fail(const TwinStatus& s) override { reactor_->finish_once(to_grpc(s)); }

  // Dies with this object, as TokenStream's reactor: after or inside the reactor's OnDone.
  std::unique_ptr<Reactor> reactor_;

 private:
  Resp* resp_;
  std::string text_;
};

// Hands the request object to its reactor (which drops it in OnDone) and returns the reactor.
template <class Request>
auto* attach(const std::shared_ptr<Request>& r) {
  r->reactor_->owner_keepalive_ = new std::shared_ptr<TwinRequest>(r);
  return r->reactor_.get();
}

// The end of every generation handler: a refused request is answered with its status; an
// admitted one goes to the engine. The handler is done writing the request: from here on gRPC's
// threads may call its reactor (OnCancel, OnDone).
template <class Request>
void admit_or_refuse(TwinEngine& engine, const std::shared_ptr<Request>& r, const TwinStatus& s) {
  handoff_release(r->reactor_.get());
  if (!s.ok()) {
    engine.refuse(*r, s);
  } else {
    engine.submit(r);
  }
}

}  // namespace grpc_twin
}  // namespace servetwin::live
