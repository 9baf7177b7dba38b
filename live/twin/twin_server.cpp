#include "live/twin/twin_server.hpp"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <boost/random/uniform_int_distribution.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include "proto/caikit_runtime_Nlp.grpc.pb.h"
#include "proto/fmaas_generation.grpc.pb.h"
#include "proto/grpc_health_v1.grpc.pb.h"
#include "sim/core/rng.hpp"

namespace servetwin::live {

using Clock = std::chrono::steady_clock;

std::int64_t twin_output_tokens(std::uint64_t seed, const std::string& text, std::int64_t min_new,
                                std::int64_t max_new) {
  if (min_new >= max_new) return max_new;
  auto rng = make_rng(seed, "twin-output-length", stable_hash(text));
  boost::random::uniform_int_distribution<std::int64_t> d(std::max<std::int64_t>(min_new, 1), max_new);
  return d(rng);
}

namespace {

std::int64_t steady_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// What the driver needs to know about a request, and how it talks back to the client.
class SimClient {
 public:
  virtual ~SimClient() = default;
  virtual void token(std::int64_t index) = 0;                 // driver thread
  virtual void done(const RequestRecord& r) = 0;              // driver thread; final
  virtual void fail(const grpc::Status& s) = 0;               // any thread; final

  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t max_new_tokens = 0;
  std::string stop_reason_name;  // MAX_TOKENS / EOS_TOKEN / TOKEN_LIMIT
  int stop_code = 0;
  std::string x_request_id;
  std::string prompt;  // echoed only when the client asks (TGIS input_text / Caikit preserve_input_text)
  bool echo_input = false;
  bool want_tokens = false;
};

struct Cmd {
  enum class Kind { kSubmit, kCancel } kind;
  std::shared_ptr<SimClient> client;
  RequestInput input;
  SimClient* cancel_target = nullptr;
};

}  // namespace

struct TwinServer::Impl final : public SimListener {
  TwinOptions opts;
  SimFactory factory;
  EventQueue queue;
  std::unique_ptr<ServingSim> sim;
  EngineLimits lim;
  Clock::time_point t0;
  // Services before the server: members die in reverse order, and gRPC requires registered
  // services to outlive the server.
  std::vector<std::unique_ptr<grpc::Service>> services;
  std::unique_ptr<grpc::Server> server;
  std::thread driver;

  std::mutex inbox_mu;
  std::condition_variable inbox_cv;
  std::vector<Cmd> inbox;
  bool stop = false;

  // Driver-thread state.
  std::unordered_map<std::uint64_t, std::shared_ptr<SimClient>> active;
  std::unordered_map<SimClient*, std::uint64_t> id_of;
  std::uint64_t next_id = 1;

  mutable std::mutex stats_mu;
  TwinStats st;
  std::atomic<std::int64_t> messages_sent{0};
  std::map<std::string, std::int64_t> emissions;
  std::map<std::string, std::int64_t> handoffs;
  std::map<std::string, std::pair<TimeNs, TimeNs>> times;

  std::mutex shutdown_mu;
  std::condition_variable shutdown_cv;
  bool is_shut = false;

  [[nodiscard]] TimeNs wall_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
  }
  void post(Cmd c) {
    {
      std::lock_guard lk(inbox_mu);
      inbox.push_back(std::move(c));
    }
    inbox_cv.notify_one();
  }
  void count(std::int64_t TwinStats::*field, std::int64_t n = 1) {
    std::lock_guard lk(stats_mu);
    st.*field += n;
  }
  // With log_emissions: when the engine emitted a request's first token (the driver turns it into
  // messages) and when that message was handed to gRPC (StartWrite; later when the ack is still
  // being written), steady_clock ns.
  void log_first_token(const SimClient& c) {
    if (!opts.log_emissions) return;
    const auto t = steady_ns(Clock::now());
    std::lock_guard lk(stats_mu);
    emissions[c.x_request_id] = t;
  }
  void log_first_token_handoff(const SimClient& c) {
    if (!opts.log_emissions) return;
    const auto t = steady_ns(Clock::now());
    std::lock_guard lk(stats_mu);
    handoffs[c.x_request_id] = t;
  }

  // SimListener (driver thread).
  [[nodiscard]] bool wants_tokens() const override { return true; }
  void on_token(std::uint64_t id, std::int64_t index, TimeNs /*t*/) override {
    auto it = active.find(id);
    if (it != active.end()) it->second->token(index);
  }
  void on_request_done(const RequestRecord& r) override {
    auto it = active.find(r.request_id);
    if (it == active.end()) return;
    auto client = it->second;
    active.erase(it);
    id_of.erase(client.get());
    if (opts.log_emissions) {
      std::lock_guard lk(stats_mu);
      times[client->x_request_id].second = r.finish_ns;
    }
    switch (r.status) {
      case RequestStatus::kOk: count(&TwinStats::completed); break;
      case RequestStatus::kRejected: count(&TwinStats::rejected); break;
      default: break;
    }
    client->done(r);
  }

  void run_driver();
  // Validates a generation request and fills the client's lengths; returns a non-OK status to
  // send instead of generating.
  grpc::Status admit(SimClient& c, const std::string& text, std::int64_t max_new, std::int64_t min_new,
                     std::int64_t truncate);
  void submit(const std::shared_ptr<SimClient>& c) {
    Cmd cmd{Cmd::Kind::kSubmit, c, {}, nullptr};
    cmd.input.input_tokens = c->input_tokens;
    cmd.input.max_new_tokens = c->max_new_tokens;
    cmd.input.min_new_tokens = c->output_tokens;
    cmd.input.output_tokens = c->output_tokens;
    count(&TwinStats::accepted);
    post(std::move(cmd));
  }
  void cancel(SimClient* c) { post(Cmd{Cmd::Kind::kCancel, nullptr, {}, c}); }
};

void TwinServer::Impl::run_driver() {
  std::vector<Cmd> cmds;
  for (;;) {
    {
      std::unique_lock lk(inbox_mu);
      for (;;) {
        if (stop) return;
        if (!inbox.empty()) break;
        if (!queue.empty()) {
          const TimeNs next = queue.next_time();
          if (next <= wall_ns()) break;
          inbox_cv.wait_until(lk, t0 + std::chrono::nanoseconds(next));
        } else {
          inbox_cv.wait(lk);
        }
      }
      cmds.swap(inbox);
    }
    const TimeNs now = std::max(wall_ns(), queue.now());
    // Bring the engine up to just before `now` first: an engine may look at its own state when a
    // request is submitted, and that state must not lag behind the submission time.
    if (now > 0) queue.run_until(now - 1);
    for (auto& c : cmds) {
      if (c.kind == Cmd::Kind::kSubmit) {
        const std::uint64_t id = next_id++;
        c.input.id = id;
        active[id] = c.client;
        id_of[c.client.get()] = id;
        if (opts.log_emissions) {
          std::lock_guard lk(stats_mu);
          times[c.client->x_request_id] = {now, -1};
        }
        sim->submit(c.input, now);
      } else {
        auto it = id_of.find(c.cancel_target);
        if (it == id_of.end()) continue;  // already finished
        const std::uint64_t id = it->second;
        auto client = active[id];
        active.erase(id);
        id_of.erase(it);
        count(&TwinStats::cancelled);
        sim->cancel(id);  // frees the engine's slot and KV; its record (if any) finds no client
        client->fail(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled by client"));
      }
    }
    cmds.clear();
    queue.run_until(std::max(wall_ns(), queue.now()));
  }
}

grpc::Status TwinServer::Impl::admit(SimClient& c, const std::string& text, std::int64_t max_new,
                                     std::int64_t min_new, std::int64_t truncate) {
  c.input_tokens = approx_token_count(text);
  if (truncate > 0 && c.input_tokens > truncate) c.input_tokens = truncate;
  if (max_new < 0 || min_new < 0) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "max_new_tokens and min_new_tokens must be >= 0"};
  }
  if (max_new == 0) max_new = std::max(opts.default_max_new_tokens, min_new);
  if (min_new > max_new) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            fmt::format("min_new_tokens ({}) must be <= max_new_tokens ({})", min_new, max_new)};
  }
  if (lim.max_new_tokens > 0 && max_new > lim.max_new_tokens) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            fmt::format("max_new_tokens ({}) must be <= {}", max_new, lim.max_new_tokens)};
  }
  if (lim.max_sequence_length > 0 && c.input_tokens >= lim.max_sequence_length) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            fmt::format("input is {} tokens; it must be shorter than max_sequence_length {} "
                        "(tokens counted as ceil(bytes/4))",
                        c.input_tokens, lim.max_sequence_length)};
  }
  c.max_new_tokens = max_new;
  c.output_tokens = twin_output_tokens(opts.seed, text, min_new, max_new);
  c.stop_reason_name = c.output_tokens == max_new ? "MAX_TOKENS" : "EOS_TOKEN";
  c.stop_code = c.output_tokens == max_new ? 1 : 2;
  if (lim.max_sequence_length > 0 && c.input_tokens + c.output_tokens > lim.max_sequence_length) {
    c.output_tokens = lim.max_sequence_length - c.input_tokens;  // the context fills up first
    c.stop_reason_name = "TOKEN_LIMIT";
    c.stop_code = 6;
  }
  c.prompt = text;
  return grpc::Status::OK;
}

namespace {

std::string metadata(grpc::CallbackServerContext* ctx, const char* key) {
  const auto& md = ctx->client_metadata();
  auto it = md.find(key);
  return it == md.end() ? std::string() : std::string(it->second.data(), it->second.size());
}

// The gRPC status a request that did not finish ok is answered with (streams and unary calls).
grpc::Status status_for(const RequestRecord& r) {
  switch (r.status) {
    case RequestStatus::kRejected:
      return {grpc::StatusCode::RESOURCE_EXHAUSTED, r.error.empty() ? "engine at max concurrent requests" : r.error};
    case RequestStatus::kCancelled: return {grpc::StatusCode::CANCELLED, "cancelled"};
    default: return {grpc::StatusCode::INTERNAL, "simulated engine: " + r.error};
  }
}

// A server stream with an outgoing queue: one write in flight at a time (the callback API's
// rule); Finish only once the queue is drained. Owned by its TokenStream, which OnDone keeps
// alive no longer than OnDone itself (gRPC is done with the reactor then); client cancellation is
// passed to the driver. The message carrying the first generated token is marked: the time it is handed
// to gRPC (StartWrite) is logged, so the runner's timestamp overhead can be measured from there.
template <class Resp>
class StreamWriter final : public grpc::ServerWriteReactor<Resp> {
 public:
  StreamWriter(TwinServer::Impl* twin, SimClient* owner) : twin_(twin), owner_(owner) {}

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
    this->Finish(s);
  }
  void OnWriteDone(bool ok) override {
    twin_->messages_sent.fetch_add(1, std::memory_order_relaxed);  // hot path: no shared lock
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
      this->Finish(s);
    }
  }
  void OnCancel() override { twin_->cancel(owner_); }
  void OnDone() override { delete owner_keepalive_; }

  // Set by the owning client object: lets OnDone drop the reactor's reference to it.
  std::shared_ptr<SimClient>* owner_keepalive_ = nullptr;

 private:
  struct Out {
    Resp msg;
    bool first_token;
  };
  // Called without mu_ held (gRPC may run callbacks inline).
  void start_write(bool first_token) {
    if (first_token) twin_->log_first_token_handoff(*owner_);
    this->StartWrite(&current_);
  }

  TwinServer::Impl* twin_;
  SimClient* owner_;
  std::mutex mu_;
  std::deque<Out> queue_;
  Resp current_;
  bool writing_ = false;
  bool finish_requested_ = false;
  grpc::Status final_status_;
};

// Stop reason code of an engine that stopped before the client's limit (both protocols number
// EOS_TOKEN 2).
constexpr int kStopEosToken = 2;

// TGIS GenerateStream messages: ack (input_token_count only; the prompt with
// ResponseOptions.input_text), one message per token with delta text, cumulative
// generated_token_count and (ResponseOptions.generated_tokens) one TokenInfo, the last one
// carrying stop_reason.
struct TgisMessages {
  using Msg = fmaas::GenerationResponse;
  static Msg ack(const SimClient& c) {
    Msg m;
    m.set_input_token_count(static_cast<std::uint32_t>(c.input_tokens));
    if (c.echo_input) m.set_text(c.prompt);
    return m;
  }
  static Msg token(const SimClient& c, std::int64_t i, bool last) {
    Msg m;
    m.set_text(placeholder_word(i));
    m.set_generated_token_count(static_cast<std::uint32_t>(i + 1));
    if (c.want_tokens) m.add_tokens()->set_text(placeholder_word(i));
    if (last) m.set_stop_reason(static_cast<fmaas::StopReason>(c.stop_code));
    return m;
  }
  static Msg close(const SimClient& /*c*/, std::int64_t sent, int reason) {
    Msg m;
    m.set_generated_token_count(static_cast<std::uint32_t>(sent));
    m.set_stop_reason(static_cast<fmaas::StopReason>(reason));
    return m;
  }
};

// Caikit ServerStreamingTextGenerationTaskPredict: the same sequence as GeneratedTextStreamResults
// (caikit-nlp forwards one per TGIS message), counts in `details`, one GeneratedToken per token.
struct CaikitMessages {
  using Msg = caikit_data_model::nlp::GeneratedTextStreamResult;
  static Msg details(const SimClient& c, std::int64_t cum, int finish) {
    Msg m;
    auto* d = m.mutable_details();
    d->set_generated_tokens(static_cast<std::uint32_t>(cum));
    d->set_input_token_count(c.input_tokens);
    d->set_finish_reason(static_cast<caikit_data_model::nlp::FinishReason>(finish));
    return m;
  }
  static Msg ack(const SimClient& c) {
    Msg m = details(c, 0, 0);
    if (c.echo_input) m.set_generated_text(c.prompt);
    return m;
  }
  static Msg token(const SimClient& c, std::int64_t i, bool last) {
    Msg m = details(c, i + 1, last ? c.stop_code : 0);
    m.set_generated_text(placeholder_word(i));
    m.add_tokens()->set_text(placeholder_word(i));
    return m;
  }
  static Msg close(const SimClient& c, std::int64_t sent, int reason) { return details(c, sent, reason); }
};

// A streaming generation: the ack goes out with the first token (as the vllm-tgis-adapter sends
// it), then one message per token; an engine that stops early gets a closing message with the
// stop reason. The message contents are the protocol's (Messages above).
template <class Messages>
class TokenStream final : public SimClient {
 public:
  using Msg = typename Messages::Msg;
  explicit TokenStream(TwinServer::Impl* twin) : twin_(twin), reactor_(std::make_unique<StreamWriter<Msg>>(twin, this)) {}

  void token(std::int64_t i) override {
    if (i >= output_tokens) return;
    if (i == 0) {
      reactor_->push(Messages::ack(*this));
      twin_->log_first_token(*this);
    }
    const bool last = i + 1 == output_tokens;
    if (last) final_sent_ = true;
    sent_ = i + 1;
    reactor_->push(Messages::token(*this, i, last), /*first_token=*/i == 0);
  }
  void done(const RequestRecord& r) override {
    if (r.status != RequestStatus::kOk) {
      fail(status_for(r));
      return;
    }
    if (!final_sent_) reactor_->push(Messages::close(*this, sent_, sent_ < output_tokens ? kStopEosToken : stop_code));
    reactor_->finish_stream(grpc::Status::OK);
  }
  void fail(const grpc::Status& s) override { reactor_->finish_stream(s); }

  TwinServer::Impl* twin_;
  // The reactor dies with this object: the last reference to it is either the one OnDone drops
  // (inside OnDone, gRPC's last use of the reactor) or the driver's, after OnDone (a finished
  // reactor ignores pushes).
  std::unique_ptr<StreamWriter<Msg>> reactor_;
  bool final_sent_ = false;
  std::int64_t sent_ = 0;
};
using TgisStream = TokenStream<TgisMessages>;
using CaikitStream = TokenStream<CaikitMessages>;

// Unary calls (TGIS Generate with a batch of one, Caikit TextGenerationTaskPredict): the response
// is sent when the engine finishes the request.
template <class Resp>
class UnaryClient final : public SimClient {
 public:
  class Reactor final : public grpc::ServerUnaryReactor {
   public:
    Reactor(TwinServer::Impl* twin, UnaryClient* owner) : twin_(twin), owner_(owner) {}
    void OnCancel() override { twin_->cancel(owner_); }
    void OnDone() override { delete keepalive_; }
    void finish_once(const grpc::Status& s) {
      if (finished_.exchange(true)) return;
      Finish(s);
    }
    TwinServer::Impl* twin_;
    UnaryClient* owner_;
    std::shared_ptr<SimClient>* keepalive_ = nullptr;
    std::atomic<bool> finished_{false};
  };
  UnaryClient(TwinServer::Impl* twin, Resp* resp)
      : resp_(resp), reactor_(std::make_unique<Reactor>(twin, this)) {}
  void token(std::int64_t i) override {
    if (i >= output_tokens) return;
    text_ += placeholder_word(i);
    sent_ = i + 1;
  }
  void done(const RequestRecord& r) override {
    if (r.status != RequestStatus::kOk) {
      fail(status_for(r));
      return;
    }
    const int reason = sent_ < output_tokens ? kStopEosToken : stop_code;
    if constexpr (std::is_same_v<Resp, fmaas::BatchedGenerationResponse>) {
      auto* g = resp_->add_responses();
      g->set_input_token_count(static_cast<std::uint32_t>(input_tokens));
      g->set_generated_token_count(static_cast<std::uint32_t>(sent_));
      g->set_text(text_);
      g->set_stop_reason(static_cast<fmaas::StopReason>(reason));
    } else {
      resp_->set_generated_text(text_);
      resp_->set_generated_tokens(sent_);
      resp_->set_input_token_count(input_tokens);
      resp_->set_finish_reason(static_cast<caikit_data_model::nlp::FinishReason>(reason));
    }
    reactor_->finish_once(grpc::Status::OK);
  }
  void fail(const grpc::Status& s) override { reactor_->finish_once(s); }
  Resp* resp_;
  // Dies with this object, as TokenStream's reactor: after or inside the reactor's OnDone.
  std::unique_ptr<Reactor> reactor_;
  std::string text_;
  std::int64_t sent_ = 0;
};

// The end of every generation handler: a request the twin refuses (INVALID_ARGUMENT, NOT_FOUND)
// is answered with that status; an admitted one goes to the engine.
void admit_or_refuse(TwinServer::Impl* twin, const std::shared_ptr<SimClient>& c, const grpc::Status& s) {
  if (!s.ok()) {
    twin->count(&TwinStats::invalid);
    c->fail(s);
  } else {
    twin->submit(c);
  }
}

// Hands the client object to its reactor (which drops it in OnDone) and returns the reactor.
template <class Client>
auto* attach(const std::shared_ptr<Client>& c) {
  c->reactor_->owner_keepalive_ = new std::shared_ptr<SimClient>(c);
  return c->reactor_.get();
}
template <class Resp>
grpc::ServerUnaryReactor* attach_unary(const std::shared_ptr<UnaryClient<Resp>>& c) {
  c->reactor_->keepalive_ = new std::shared_ptr<SimClient>(c);
  return c->reactor_.get();
}

class TgisService final : public fmaas::GenerationService::CallbackService {
 public:
  explicit TgisService(TwinServer::Impl* twin) : twin_(twin) {}

  grpc::ServerWriteReactor<fmaas::GenerationResponse>* GenerateStream(
      grpc::CallbackServerContext* ctx, const fmaas::SingleGenerationRequest* req) override {
    auto c = std::make_shared<TgisStream>(twin_);
    auto* reactor = attach(c);
    c->x_request_id = metadata(ctx, "x-request-id");
    const auto& p = req->params();
    c->echo_input = p.response().input_text();
    c->want_tokens = p.response().generated_tokens();
    const grpc::Status s = twin_->admit(*c, req->request().text(), p.stopping().max_new_tokens(),
                                        p.stopping().min_new_tokens(), p.truncate_input_tokens());
    admit_or_refuse(twin_, c, s);
    return reactor;
  }

  grpc::ServerUnaryReactor* Generate(grpc::CallbackServerContext* ctx, const fmaas::BatchedGenerationRequest* req,
                                     fmaas::BatchedGenerationResponse* resp) override {
    auto c = std::make_shared<UnaryClient<fmaas::BatchedGenerationResponse>>(twin_, resp);
    auto* reactor = attach_unary(c);
    c->x_request_id = metadata(ctx, "x-request-id");
    if (req->requests_size() != 1) {
      // The engine model serves one request per call; clients (caikit, llm-load-test) send one.
      twin_->count(&TwinStats::invalid);
      c->fail({grpc::StatusCode::INVALID_ARGUMENT, "the twin accepts batches of exactly one request"});
      return reactor;
    }
    const auto& p = req->params();
    const grpc::Status s = twin_->admit(*c, req->requests(0).text(), p.stopping().max_new_tokens(),
                                        p.stopping().min_new_tokens(), p.truncate_input_tokens());
    admit_or_refuse(twin_, c, s);
    return reactor;
  }

  grpc::ServerUnaryReactor* Tokenize(grpc::CallbackServerContext* ctx, const fmaas::BatchedTokenizeRequest* req,
                                     fmaas::BatchedTokenizeResponse* resp) override {
    for (const auto& r : req->requests()) {
      auto* out = resp->add_responses();
      const std::string& text = r.text();
      // Pseudo-tokens: consecutive 4-byte pieces, matching the count the twin charges.
      std::int64_t n = approx_token_count(text);
      std::size_t start = 0;
      if (req->truncate_input_tokens() > 0 && n > req->truncate_input_tokens()) {
        const std::int64_t drop = n - req->truncate_input_tokens();
        start = static_cast<std::size_t>(drop) * 4;  // truncation keeps the end of the input
        n = req->truncate_input_tokens();
      }
      out->set_token_count(static_cast<std::uint32_t>(n));
      for (std::size_t off = start; off < text.size(); off += 4) {
        if (req->return_tokens()) out->add_tokens(text.substr(off, 4));
        if (req->return_offsets()) {
          auto* o = out->add_offsets();
          o->set_start(static_cast<std::uint32_t>(off));
          o->set_end(static_cast<std::uint32_t>(std::min(off + 4, text.size())));
        }
      }
    }
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* ModelInfo(grpc::CallbackServerContext* ctx, const fmaas::ModelInfoRequest* /*req*/,
                                      fmaas::ModelInfoResponse* resp) override {
    resp->set_model_kind(fmaas::ModelInfoResponse::DECODER_ONLY);
    resp->set_max_sequence_length(static_cast<std::uint32_t>(twin_->lim.max_sequence_length));
    resp->set_max_new_tokens(static_cast<std::uint32_t>(twin_->lim.max_new_tokens));
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  TwinServer::Impl* twin_;
};

class CaikitService final : public caikit::runtime::Nlp::NlpService::CallbackService {
 public:
  explicit CaikitService(TwinServer::Impl* twin) : twin_(twin) {}

  // Caikit routes on the `mm-model-id` header; a different model name is NOT_FOUND.
  grpc::Status check_model(grpc::CallbackServerContext* ctx) const {
    const std::string m = metadata(ctx, "mm-model-id");
    if (!m.empty() && m != twin_->opts.model_name) {
      return {grpc::StatusCode::NOT_FOUND,
              "model '" + m + "' is not loaded (this twin serves '" + twin_->opts.model_name + "')"};
    }
    return grpc::Status::OK;
  }

  template <class Req>
  grpc::Status admit(SimClient& c, grpc::CallbackServerContext* ctx, const Req& req) {
    grpc::Status s = check_model(ctx);
    if (!s.ok()) return s;
    if (req.has_decoding_method() && req.decoding_method() != "GREEDY" && req.decoding_method() != "SAMPLING") {
      return {grpc::StatusCode::INVALID_ARGUMENT, "decoding_method must be GREEDY or SAMPLING"};
    }
    c.echo_input = req.has_preserve_input_text() && req.preserve_input_text();
    return twin_->admit(c, req.text(), req.has_max_new_tokens() ? req.max_new_tokens() : 0,
                        req.has_min_new_tokens() ? req.min_new_tokens() : 0,
                        req.has_truncate_input_tokens() ? req.truncate_input_tokens() : 0);
  }

  grpc::ServerWriteReactor<caikit_data_model::nlp::GeneratedTextStreamResult>* ServerStreamingTextGenerationTaskPredict(
      grpc::CallbackServerContext* ctx, const caikit::runtime::Nlp::ServerStreamingTextGenerationTaskRequest* req) override {
    auto c = std::make_shared<CaikitStream>(twin_);
    auto* reactor = attach(c);
    c->x_request_id = metadata(ctx, "x-request-id");
    const grpc::Status s = admit(*c, ctx, *req);
    admit_or_refuse(twin_, c, s);
    return reactor;
  }

  grpc::ServerUnaryReactor* TextGenerationTaskPredict(grpc::CallbackServerContext* ctx,
                                                      const caikit::runtime::Nlp::TextGenerationTaskRequest* req,
                                                      caikit_data_model::nlp::GeneratedTextResult* resp) override {
    auto c = std::make_shared<UnaryClient<caikit_data_model::nlp::GeneratedTextResult>>(twin_, resp);
    auto* reactor = attach_unary(c);
    c->x_request_id = metadata(ctx, "x-request-id");
    const grpc::Status s = admit(*c, ctx, *req);
    admit_or_refuse(twin_, c, s);
    return reactor;
  }

 private:
  TwinServer::Impl* twin_;
};

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
      StartWrite(&msg_);
    }
    void OnWriteDone(bool /*ok*/) override {}
    void OnCancel() override { Finish(grpc::Status::OK); }
    void OnDone() override { delete this; }

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

TwinServer::TwinServer(TwinOptions opts, SimFactory factory) : impl_(std::make_unique<Impl>()) {
  disable_abseil_deadlock_detection();
  impl_->opts = std::move(opts);
  impl_->factory = std::move(factory);
}

TwinServer::~TwinServer() { shutdown(); }

int TwinServer::start() {
  Impl& I = *impl_;
  if (!is_loopback_address(I.opts.listen)) {
    throw std::invalid_argument("--listen must be a loopback address (127.0.0.1:PORT or localhost:PORT), got '" +
                                I.opts.listen + "'");
  }
  I.sim = I.factory(I.queue, &I);
  if (!I.sim) throw std::runtime_error("twin: engine factory returned no simulator");
  I.lim = I.sim->limits();
  std::string served;
  if (I.opts.protocol == Protocol::kTgis) {
    I.services.push_back(std::make_unique<TgisService>(&I));
    served = "fmaas.GenerationService";
  } else {
    I.services.push_back(std::make_unique<CaikitService>(&I));
    served = "caikit.runtime.Nlp.NlpService";
  }
  I.services.push_back(std::make_unique<HealthService>(served));
  grpc::ServerBuilder b;
  int port = 0;
  b.AddListeningPort(I.opts.listen, grpc::InsecureServerCredentials(), &port);
  for (auto& s : I.services) b.RegisterService(s.get());
  b.SetMaxReceiveMessageSize(-1);
  I.t0 = Clock::now();
  I.server = b.BuildAndStart();
  if (!I.server || port == 0) throw std::runtime_error("twin: cannot listen on " + I.opts.listen);
  I.driver = std::thread([&I] { I.run_driver(); });
  return port;
}

void TwinServer::shutdown(int grace_ms) {
  Impl& I = *impl_;
  {
    std::lock_guard lk(I.shutdown_mu);
    if (I.is_shut) return;
    I.is_shut = true;
  }
  if (I.server) {
    // In-flight calls are cancelled at the deadline; the driver keeps running meanwhile so that
    // their cancellations are processed.
    I.server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms));
  }
  {
    std::lock_guard lk(I.inbox_mu);
    I.stop = true;
  }
  I.inbox_cv.notify_all();
  if (I.driver.joinable()) I.driver.join();
  if (I.server) I.server->Wait();
  I.shutdown_cv.notify_all();
}

void TwinServer::wait() {
  std::unique_lock lk(impl_->shutdown_mu);
  impl_->shutdown_cv.wait(lk, [&] { return impl_->is_shut; });
}

EngineLimits TwinServer::limits() const { return impl_->lim; }

TwinStats TwinServer::stats() const {
  std::lock_guard lk(impl_->stats_mu);
  TwinStats s = impl_->st;
  s.messages = impl_->messages_sent.load();
  return s;
}

std::map<std::string, std::int64_t> TwinServer::first_token_emissions() const {
  std::lock_guard lk(impl_->stats_mu);
  return impl_->emissions;
}

std::map<std::string, std::int64_t> TwinServer::first_token_handoffs() const {
  std::lock_guard lk(impl_->stats_mu);
  return impl_->handoffs;
}

std::map<std::string, std::pair<TimeNs, TimeNs>> TwinServer::request_times() const {
  std::lock_guard lk(impl_->stats_mu);
  return impl_->times;
}

std::int64_t TwinServer::steady_origin_ns() const { return steady_ns(impl_->t0); }

}  // namespace servetwin::live
