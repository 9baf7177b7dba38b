#include "live/load/runner.hpp"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "proto/caikit_runtime_Nlp.grpc.pb.h"
#include "proto/fmaas_generation.grpc.pb.h"
#include "proto/grpc_health_v1.grpc.pb.h"
#include "sim/metrics/stage_metrics.hpp"
#include "sim/metrics/summary.hpp"

namespace servetwin::live {

using Clock = std::chrono::steady_clock;

namespace {

const char* status_code_name(grpc::StatusCode c) {
  switch (c) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    default: return "UNKNOWN_CODE";
  }
}

std::shared_ptr<grpc::ChannelCredentials> make_credentials(const LoadConfig& cfg) {
  if (!cfg.tls) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions opts;
  if (!cfg.ca_file.empty()) {
    std::ifstream in(cfg.ca_file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read --ca file " + cfg.ca_file);
    std::stringstream ss;
    ss << in.rdbuf();
    opts.pem_root_certs = ss.str();
  }
  return grpc::SslCredentials(opts);
}

std::shared_ptr<grpc::Channel> make_channel(const LoadConfig& cfg, int index) {
  grpc::ChannelArguments args;
  // A local subchannel pool plus a distinguishing argument gives each channel its own TCP
  // connection, so --connections really spreads streams over several HTTP/2 connections.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("servetwin.connection_index", index);
  args.SetMaxReceiveMessageSize(-1);
  return grpc::CreateCustomChannel(cfg.target, make_credentials(cfg), args);
}

// What one stream message says, independent of protocol.
struct MsgInfo {
  bool carries_output = false;
  std::int64_t cumulative_tokens = 0;
  std::int64_t input_tokens = 0;  // 0 = not reported in this message
  int stop_code = 0;              // 0 = NOT_FINISHED
};

const char* stop_reason_name(int code) {
  static const char* kNames[] = {"NOT_FINISHED", "MAX_TOKENS",    "EOS_TOKEN",   "CANCELLED",
                                 "TIME_LIMIT",   "STOP_SEQUENCE", "TOKEN_LIMIT", "ERROR"};
  return code >= 0 && code < 8 ? kNames[code] : "UNKNOWN_STOP_REASON";
}

MsgInfo parse(const fmaas::GenerationResponse& r) {
  MsgInfo m;
  // With ResponseOptions.input_text the ack echoes the prompt in `text`; it is still not output.
  m.carries_output = r.generated_token_count() > 0 || r.tokens_size() > 0 ||
                     (!r.text().empty() && r.input_token_count() == 0);
  m.cumulative_tokens = r.generated_token_count();
  m.input_tokens = r.input_token_count();
  m.stop_code = static_cast<int>(r.stop_reason());
  return m;
}

MsgInfo parse(const caikit_data_model::nlp::GeneratedTextStreamResult& r) {
  MsgInfo m;
  m.carries_output = !r.generated_text().empty() || r.tokens_size() > 0;
  if (r.has_details()) {
    m.cumulative_tokens = r.details().generated_tokens();
    m.input_tokens = r.details().input_token_count();
    m.stop_code = static_cast<int>(r.details().finish_reason());
  }
  return m;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

// Base of every in-flight request. Reference-counted: the call's operations hold one reference
// until its finish completes; the runner takes a temporary one while cancelling, so a cancel never
// races a delete. The runner counts the objects that exist (not just the calls in flight): a call
// is "complete" when its finish is handled, before its ClientContext is destroyed, and the runner
// (its channels and completion queues) must outlive that destruction.
class CallBase {
 public:
  CallBase(LoadRunner::Impl* runner, LiveRecord rec, std::int64_t user_slot);
  virtual ~CallBase() = default;
  CallBase(const CallBase&) = delete;
  CallBase& operator=(const CallBase&) = delete;

  // One completed operation of this call (`op`: CallOp; `t`: when the queue returned it).
  virtual void proceed(int op, bool ok, TimeNs t) = 0;
  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref();
  void cancel(const std::string& why) {
    {
      std::lock_guard lk(mu_);
      if (cancel_reason_.empty()) cancel_reason_ = why;
    }
    ctx_.TryCancel();
  }

  grpc::ClientContext ctx_;
  // The request message lives as long as the call.
  std::unique_ptr<google::protobuf::Message> request_;
  LoadRunner::Impl* runner_;
  LiveRecord rec_;
  std::int64_t user_slot_;
  std::mutex mu_;  // guards the fields below against cancel() from the control thread
  std::string protocol_error_;
  std::string cancel_reason_;
  bool final_seen_ = false;
  TimeNs final_ns_ = -1;
  std::int64_t last_cum_ = 0;

 protected:
  // Returns false when the stream must stop (protocol violation: the call is being cancelled).
  bool on_message(TimeNs t, const MsgInfo& m);
  void on_done(const grpc::Status& s);

 private:
  std::atomic<int> refs_{1};
};

// A completion-queue tag: which call, and which of its operations completed.
struct CqTag {
  CallBase* call;
  int op;
};

struct StageState {
  int index = 0;
  bool closed = true;
  int users = 0;
  bool sending = false;
  TimeNs start_ns = 0;
  TimeNs window_start_ns = -1;  // set when the first measured request is sent
  TimeNs window_end_ns = -1;    // duration mode: window_start + duration
  std::int64_t warmup_sent = 0;
  std::int64_t measured_sent = 0;
  std::int64_t in_flight = 0;
  std::int64_t completed = 0, errors = 0;
  std::int64_t window_tokens = 0;
  int consecutive_unavailable = 0;
  std::vector<std::vector<std::size_t>> user_order;  // closed: per user; open: [0]
  std::vector<std::size_t> user_cursor;
};

struct LoadRunner::Impl {
  LoadConfig cfg;
  Dataset ds;
  Clock::time_point t0;
  std::chrono::system_clock::time_point t0_wall;
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<fmaas::GenerationService::Stub>> tgis;
  std::vector<std::unique_ptr<caikit::runtime::Nlp::NlpService::Stub>> caikit;
  // Completion queues, one per polling thread; request i runs on queue i mod n. A thread waiting
  // in Next also polls the sockets, so a message is read, parsed and timestamped on one thread,
  // with no hand-off to another (the callback API of gRPC 1.51 hands every completion to a
  // `nexting` thread and then to an executor thread).
  std::vector<std::unique_ptr<grpc::CompletionQueue>> cqs;
  std::vector<std::thread> pollers;
  void start_pollers(int n);
  void stop_pollers();  // after every call object is gone

  std::mutex mu;
  std::condition_variable cv;  // signalled when a request completes
  StageState st;
  std::set<CallBase*> live;
  std::uint64_t next_id = 0;
  std::vector<LiveRecord> records;
  std::int64_t warmup_total = 0;
  bool abort = false;
  std::string abort_reason;
  std::ofstream csv, warmup_csv, msg_csv;
  // Completed records wait here (guarded by `mu`) until the control thread writes them, at most
  // one control-loop tick (20 ms) later: the file writes and flushes stay off the polling threads,
  // which also receive every other stream's messages and timestamp them.
  std::string csv_pending, warmup_pending, msg_pending;
  // Closed loop: users whose request completed, waiting for the control thread to send their next
  // one (guarded by `mu`; the completion wakes it). Creating a call is the most expensive thing a
  // completion would do on a polling thread.
  std::vector<std::int64_t> launch_pending;
  void flush_records();  // call without `mu` held, from the control thread only

  [[nodiscard]] TimeNs now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
  }
  void launch(std::int64_t user);       // call without `mu` held
  void complete(CallBase* c, LiveRecord rec, const grpc::Status& s);

  // Call objects alive (see CallBase). Guarded by `objects_mu`; `objects_cv` signals zero.
  std::mutex objects_mu;
  std::condition_variable objects_cv;
  std::int64_t objects_alive = 0;
  void object_created() {
    std::lock_guard lk(objects_mu);
    ++objects_alive;
  }
  void object_destroyed() {
    // Notify under the lock: the waiter may destroy this Impl as soon as it can take the lock.
    std::lock_guard lk(objects_mu);
    if (--objects_alive == 0) objects_cv.notify_all();
  }
  // True when every call object is gone within `limit`.
  bool wait_objects_gone(std::chrono::milliseconds limit) {
    std::unique_lock lk(objects_mu);
    return objects_cv.wait_for(lk, limit, [this] { return objects_alive == 0; });
  }
};

int resolved_poll_threads(int requested) {
  if (requested > 0) return requested;
  const auto hw = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(hw / 2, 1, 4);
}

void LoadRunner::Impl::start_pollers(int n) {
  if (!cqs.empty()) return;
  for (int i = 0; i < n; ++i) cqs.push_back(std::make_unique<grpc::CompletionQueue>());
  for (auto& cq : cqs) {
    pollers.emplace_back([this, q = cq.get()] {
      void* tag = nullptr;
      bool ok = false;
      while (q->Next(&tag, &ok)) {
        const TimeNs t = now_ns();  // timestamp on receipt, before any processing
        auto* op = static_cast<CqTag*>(tag);
        op->call->proceed(op->op, ok, t);
      }
    });
  }
}

void LoadRunner::Impl::stop_pollers() {
  for (auto& cq : cqs) cq->Shutdown();
  for (auto& th : pollers) th.join();
  pollers.clear();
  cqs.clear();
}

CallBase::CallBase(LoadRunner::Impl* runner, LiveRecord rec, std::int64_t user_slot)
    : runner_(runner), rec_(std::move(rec)), user_slot_(user_slot) {
  runner_->object_created();
}

void CallBase::unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  LoadRunner::Impl* runner = runner_;
  delete this;  // destroys the ClientContext (and its channel reference) first
  runner->object_destroyed();
}

bool CallBase::on_message(TimeNs t, const MsgInfo& m) {
  std::lock_guard lk(mu_);
  auto& r = rec_.rec;
  std::string err;
  if (final_seen_) {
    err = "message received after the final message (stop_reason already set)";
  } else if (m.cumulative_tokens < last_cum_) {
    err = fmt::format("cumulative generated token count went backwards ({} -> {})", last_cum_, m.cumulative_tokens);
  }
  if (!err.empty()) {
    if (protocol_error_.empty()) protocol_error_ = err;
    if (cancel_reason_.empty()) cancel_reason_ = "protocol error";
    return false;  // the caller cancels the call, outside this lock
  }
  if (r.ack_ns < 0) r.ack_ns = t;
  if (m.input_tokens > 0 && r.input_tokens == 0) r.input_tokens = m.input_tokens;
  if (r.first_token_ns < 0 && (m.carries_output || m.cumulative_tokens > last_cum_)) r.first_token_ns = t;
  last_cum_ = m.cumulative_tokens;
  rec_.messages.emplace_back(t, m.cumulative_tokens);
  if (m.stop_code != 0) {
    final_seen_ = true;
    final_ns_ = t;
    r.stop_reason = stop_reason_name(m.stop_code);
  }
  return true;
}

void CallBase::on_done(const grpc::Status& s) {
  LiveRecord rec;
  {
    std::lock_guard lk(mu_);
    rec = std::move(rec_);
  }
  runner_->complete(this, std::move(rec), s);
}

enum CallOp : int { kOpStart = 0, kOpRead = 1, kOpFinish = 2 };

// Server-streaming call on the completion-queue API. One operation at a time is outstanding per
// call (start, then one read after another, then finish), always on the call's own queue.
template <class Resp>
class StreamCall final : public CallBase {
 public:
  using CallBase::CallBase;
  void begin(std::unique_ptr<grpc::ClientAsyncReader<Resp>> reader) {
    reader_ = std::move(reader);
    reader_->StartCall(&start_);
  }
  void proceed(int op, bool ok, TimeNs t) override {
    switch (op) {
      case kOpStart:
        if (ok) reader_->Read(&resp_, &read_);
        else reader_->Finish(&status_, &finish_);
        return;
      case kOpRead:
        if (ok && on_message(t, parse(resp_))) {
          reader_->Read(&resp_, &read_);
          return;
        }
        // End of stream, or a protocol violation (on_message said stop): cancel it, then collect
        // the status.
        if (ok) ctx_.TryCancel();
        reader_->Finish(&status_, &finish_);
        return;
      default:
        on_done(status_);
        unref();
        return;
    }
  }

 private:
  std::unique_ptr<grpc::ClientAsyncReader<Resp>> reader_;
  Resp resp_;
  grpc::Status status_;
  CqTag start_{this, kOpStart}, read_{this, kOpRead}, finish_{this, kOpFinish};
};

// Unary calls: one response; ack = first token = end (no stream to observe).
template <class Resp>
class UnaryCall final : public CallBase {
 public:
  using CallBase::CallBase;
  void begin(std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> rpc) {
    rpc_ = std::move(rpc);
    rpc_->StartCall();
    rpc_->Finish(&resp_, &status_, &finish_);
  }
  void proceed(int /*op*/, bool /*ok*/, TimeNs t) override {
    if (status_.ok()) {
      MsgInfo m;
      bool bad = false;
      int n_results = 1;
      if constexpr (std::is_same_v<Resp, fmaas::BatchedGenerationResponse>) {
        n_results = resp_.responses_size();
        if (n_results != 1) {
          bad = true;
        } else {
          m = parse(resp_.responses(0));
        }
      } else {
        m.carries_output = !resp_.generated_text().empty();
        m.cumulative_tokens = resp_.generated_tokens();
        m.input_tokens = resp_.input_token_count();
        m.stop_code = static_cast<int>(resp_.finish_reason());
      }
      if (bad) {
        std::lock_guard lk(mu_);
        protocol_error_ = fmt::format("unary response has {} results, expected 1", n_results);
      } else {
        on_message(t, m);
        std::lock_guard lk(mu_);
        rec_.rec.first_token_ns = t;
      }
    }
    on_done(status_);
    unref();
  }

 private:
  std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> rpc_;
  Resp resp_;
  grpc::Status status_;
  CqTag finish_{this, kOpFinish};
};

void LoadRunner::Impl::launch(std::int64_t user) {
  LiveRecord rec;
  std::size_t entry = 0;
  {
    std::lock_guard lk(mu);
    if (!st.sending || abort) return;
    const TimeNs t = now_ns();
    if (st.window_end_ns >= 0 && t >= st.window_end_ns) {
      st.sending = false;
      cv.notify_all();
      return;
    }
    const bool warm = (cfg.warmup_s > 0 && st.window_start_ns < 0 && t < st.start_ns + seconds_to_ns(cfg.warmup_s)) ||
                      (cfg.warmup_requests > 0 && st.warmup_sent < cfg.warmup_requests);
    if (warm) {
      ++st.warmup_sent;
    } else {
      if (cfg.requests > 0 && st.measured_sent >= cfg.requests) {
        st.sending = false;
        cv.notify_all();
        return;
      }
      if (st.window_start_ns < 0) {
        st.window_start_ns = (cfg.warmup_s > 0 && cfg.warmup_requests == 0) ? st.start_ns + seconds_to_ns(cfg.warmup_s)
                                                                            : t;
        if (cfg.duration_s > 0) st.window_end_ns = st.window_start_ns + seconds_to_ns(cfg.duration_s);
      }
      ++st.measured_sent;
    }
    const auto slot = static_cast<std::size_t>(user < 0 ? 0 : user);
    auto& cursor = st.user_cursor[slot];
    const auto& order = st.user_order[slot];
    entry = order[cursor % order.size()];
    ++cursor;
    ++st.in_flight;
    rec.warmup = warm;
    rec.rec.request_id = next_id++;
    rec.rec.stage = st.index;
    rec.rec.user_id = user;
    rec.rec.arrival_ns = t;
  }
  const DatasetEntry& e = ds.entries[entry];
  // One entry per stream message (ack + one per token): no reallocation on the read path.
  rec.messages.reserve(static_cast<std::size_t>(std::max<std::int64_t>(e.max_new_tokens, 0)) + 2);
  rec.input_id = e.id;
  const std::size_t conn = rec.rec.request_id % channels.size();
  grpc::CompletionQueue* cq = cqs[rec.rec.request_id % cqs.size()].get();
  const std::string req_id = std::to_string(rec.rec.request_id);
  auto prepare = [&](CallBase* c) {
    // gRPC deadlines take system_clock time points only.
    c->ctx_.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(
                             std::chrono::duration<double>(cfg.timeout_s)));
    c->ctx_.AddMetadata("x-request-id", req_id);
    if (cfg.protocol == Protocol::kCaikit && !cfg.model_id.empty()) c->ctx_.AddMetadata("mm-model-id", cfg.model_id);
    std::lock_guard lk(mu);
    live.insert(c);
  };
  const auto max_new = static_cast<std::uint32_t>(e.max_new_tokens);
  const auto min_new = static_cast<std::uint32_t>(e.min_new_tokens);
  if (cfg.protocol == Protocol::kTgis) {
    auto fill = [&](fmaas::Parameters* p) {
      p->set_method(fmaas::GREEDY);
      p->mutable_stopping()->set_max_new_tokens(max_new);
      p->mutable_stopping()->set_min_new_tokens(min_new);
    };
    if (cfg.stream) {
      auto* c = new StreamCall<fmaas::GenerationResponse>(this, std::move(rec), user);
      prepare(c);
      auto req = std::make_unique<fmaas::SingleGenerationRequest>();
      req->set_model_id(cfg.model_id);
      req->mutable_request()->set_text(e.text);
      fill(req->mutable_params());
      req->mutable_params()->mutable_response()->set_generated_tokens(true);
      auto reader = tgis[conn]->PrepareAsyncGenerateStream(&c->ctx_, *req, cq);
      c->request_ = std::move(req);
      c->begin(std::move(reader));
    } else {
      auto* c = new UnaryCall<fmaas::BatchedGenerationResponse>(this, std::move(rec), user);
      prepare(c);
      auto req = std::make_unique<fmaas::BatchedGenerationRequest>();
      req->set_model_id(cfg.model_id);
      req->add_requests()->set_text(e.text);
      fill(req->mutable_params());
      auto rpc = tgis[conn]->PrepareAsyncGenerate(&c->ctx_, *req, cq);
      c->request_ = std::move(req);
      c->begin(std::move(rpc));
    }
  } else {
    if (cfg.stream) {
      auto* c = new StreamCall<caikit_data_model::nlp::GeneratedTextStreamResult>(this, std::move(rec), user);
      prepare(c);
      auto req = std::make_unique<caikit::runtime::Nlp::ServerStreamingTextGenerationTaskRequest>();
      req->set_text(e.text);
      req->set_max_new_tokens(e.max_new_tokens);
      req->set_min_new_tokens(e.min_new_tokens);
      req->set_decoding_method("GREEDY");
      auto reader = caikit[conn]->PrepareAsyncServerStreamingTextGenerationTaskPredict(&c->ctx_, *req, cq);
      c->request_ = std::move(req);
      c->begin(std::move(reader));
    } else {
      auto* c = new UnaryCall<caikit_data_model::nlp::GeneratedTextResult>(this, std::move(rec), user);
      prepare(c);
      auto req = std::make_unique<caikit::runtime::Nlp::TextGenerationTaskRequest>();
      req->set_text(e.text);
      req->set_max_new_tokens(e.max_new_tokens);
      req->set_min_new_tokens(e.min_new_tokens);
      req->set_decoding_method("GREEDY");
      auto rpc = caikit[conn]->PrepareAsyncTextGenerationTaskPredict(&c->ctx_, *req, cq);
      c->request_ = std::move(req);
      c->begin(std::move(rpc));
    }
  }
}

void LoadRunner::Impl::complete(CallBase* c, LiveRecord rec, const grpc::Status& s) {
  const TimeNs t_done = now_ns();
  std::string protocol_error, cancel_reason;
  bool final_seen = false;
  TimeNs final_ns = -1;
  std::int64_t last_cum = 0;
  {
    std::lock_guard lk(c->mu_);
    protocol_error = c->protocol_error_;
    cancel_reason = c->cancel_reason_;
    final_seen = c->final_seen_;
    final_ns = c->final_ns_;
    last_cum = c->last_cum_;
  }
  auto& r = rec.rec;
  r.output_tokens = last_cum;
  r.finish_ns = final_seen ? final_ns : t_done;
  rec.grpc_code = static_cast<int>(s.error_code());
  rec.grpc_message = s.error_message();
  if (!protocol_error.empty()) {
    r.status = RequestStatus::kError;
    r.error = "protocol: " + protocol_error;
  } else if (s.ok()) {
    if (!final_seen) {
      r.status = RequestStatus::kError;
      r.error = "protocol: stream ended without a final message carrying stop_reason";
    } else if (r.stop_reason == "ERROR") {
      r.status = RequestStatus::kError;
      r.error = "server: stop_reason ERROR";
    } else {
      r.status = RequestStatus::kOk;
    }
  } else {
    r.error = std::string(status_code_name(s.error_code())) + ": " + s.error_message();
    switch (s.error_code()) {
      case grpc::StatusCode::RESOURCE_EXHAUSTED: r.status = RequestStatus::kRejected; break;
      case grpc::StatusCode::DEADLINE_EXCEEDED: r.status = RequestStatus::kTimeout; break;
      case grpc::StatusCode::CANCELLED:
        r.status = cancel_reason.empty() ? RequestStatus::kError : RequestStatus::kUnfinished;
        if (!cancel_reason.empty()) r.error = "CANCELLED by runner: " + cancel_reason;
        break;
      default: r.status = RequestStatus::kError; break;
    }
  }
  const bool unavailable = s.error_code() == grpc::StatusCode::UNAVAILABLE;
  bool next = false;
  const std::int64_t user = c->user_slot_;
  // The record's lines are formatted before taking `mu`, which every completion and the control
  // thread share; under it they are only appended.
  const std::string request_line = request_csv_line(r) + '\n';
  std::string message_lines;
  if (!rec.warmup) {
    for (std::size_t i = 0; i < rec.messages.size(); ++i) {
      fmt::format_to(std::back_inserter(message_lines), "{},{},{},{}\n", r.request_id, i, rec.messages[i].first,
                     rec.messages[i].second);
    }
  }
  {
    std::lock_guard lk(mu);
    live.erase(c);
    --st.in_flight;
    if (rec.warmup) {
      ++warmup_total;
      warmup_pending += request_line;
    } else {
      ++st.completed;
      if (r.status != RequestStatus::kOk) ++st.errors;
      if (r.status == RequestStatus::kOk && (st.window_end_ns < 0 || r.finish_ns < st.window_end_ns)) {
        st.window_tokens += r.output_tokens;
      }
      csv_pending += request_line;
      msg_pending += message_lines;
      records.push_back(std::move(rec));
    }
    if (unavailable) {
      const int limit = cfg.abort_after_unavailable > 0 ? cfg.abort_after_unavailable
                                                       : std::max(8, 2 * std::max(st.users, 1));
      if (++st.consecutive_unavailable >= limit && !abort) {
        abort = true;
        abort_reason = "server unavailable (" + std::to_string(st.consecutive_unavailable) +
                       " consecutive UNAVAILABLE results; last: " + s.error_message() + ")";
        st.sending = false;
      }
    } else {
      st.consecutive_unavailable = 0;
    }
    next = st.closed && st.sending && !abort;
    // Closed loop: this user's next request goes out as soon as the previous one completed, sent
    // by the control thread. Otherwise wake the control loop only when it waits on a completion
    // (drain finished, an open-loop slot freed, abort); it also polls the clock every 20 ms.
    if (next) launch_pending.push_back(user);
    if (next || (!st.sending && st.in_flight == 0) || (!st.closed && cfg.max_in_flight > 0) || abort) {
      cv.notify_all();
    }
  }
}

void LoadRunner::Impl::flush_records() {
  std::string c, w, m;
  {
    std::lock_guard lk(mu);
    c.swap(csv_pending);
    w.swap(warmup_pending);
    m.swap(msg_pending);
  }
  if (!c.empty() && csv) csv << c << std::flush;
  if (!w.empty() && warmup_csv) warmup_csv << w << std::flush;
  if (!m.empty() && msg_csv) msg_csv << m << std::flush;
}

// ---------------------------------------------------------------------------------------------
nlohmann::json wait_until_ready(const LoadConfig& cfg) {
  auto channel = make_channel(cfg, 0);
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(cfg.ready_timeout_s));
  std::string last = "no attempt made";
  const char* what = cfg.protocol == Protocol::kTgis ? "TGIS fmaas.GenerationService/ModelInfo"
                                                     : "grpc.health.v1.Health/Check";
  int attempts = 0;
  while (true) {
    ++attempts;
    grpc::ClientContext ctx;
    const auto left = std::max<Clock::duration>(deadline - Clock::now(), std::chrono::milliseconds(200));
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::duration_cast<std::chrono::system_clock::duration>(
                         std::min<Clock::duration>(left, std::chrono::seconds(2))));
    if (cfg.protocol == Protocol::kTgis) {
      auto stub = fmaas::GenerationService::NewStub(channel);
      fmaas::ModelInfoRequest req;
      req.set_model_id(cfg.model_id);
      fmaas::ModelInfoResponse resp;
      const auto s = stub->ModelInfo(&ctx, req, &resp);
      if (s.ok()) {
        return {{"rpc", what},
                {"attempts", attempts},
                {"model_kind", resp.model_kind() == fmaas::ModelInfoResponse::DECODER_ONLY ? "DECODER_ONLY"
                                                                                            : "ENCODER_DECODER"},
                {"max_sequence_length", resp.max_sequence_length()},
                {"max_new_tokens", resp.max_new_tokens()}};
      }
      last = std::string(status_code_name(s.error_code())) + ": " + s.error_message();
    } else {
      auto stub = grpc::health::v1::Health::NewStub(channel);
      grpc::health::v1::HealthCheckRequest req;
      grpc::health::v1::HealthCheckResponse resp;
      const auto s = stub->Check(&ctx, req, &resp);
      if (s.ok() && resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
        return {{"rpc", what}, {"attempts", attempts}, {"status", "SERVING"}};
      }
      last = s.ok() ? "status " + grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status())
                    : std::string(status_code_name(s.error_code())) + ": " + s.error_message();
    }
    if (Clock::now() + std::chrono::milliseconds(250) >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  throw std::runtime_error(fmt::format("readiness check failed: {} on {} did not succeed within {:.1f} s ({} attempts); "
                                       "last result: {}",
                                       what, cfg.target, cfg.ready_timeout_s, attempts, last));
}

LoadRunner::LoadRunner(LoadConfig cfg, Dataset dataset) : impl_(new Impl) {
  disable_abseil_deadlock_detection();
  impl_->cfg = std::move(cfg);
  impl_->ds = std::move(dataset);
}

LoadRunner::~LoadRunner() {
  // Every call finishes (run() cancels stragglers), so this wait is normally microseconds: the
  // tail of the last finish. If a call object is somehow still alive after 30 s, leak the runner
  // (and its polling threads) rather than free channels and queues that a call still uses.
  if (!impl_->wait_objects_gone(std::chrono::seconds(30))) {
    std::cerr << "servetwin load: warning: gRPC calls still alive 30 s after the run; not freeing the runner\n";
    return;
  }
  impl_->stop_pollers();
  delete impl_;
}

namespace {

nlohmann::json resolved_config(const LoadConfig& cfg, const Dataset& ds, const nlohmann::json& ready) {
  nlohmann::json loads;
  if (!cfg.concurrency.empty()) {
    loads = {{"mode", "closed-loop"}, {"concurrency", cfg.concurrency}};
  } else {
    loads = {{"mode", "open-loop"}, {"rate_per_s", cfg.rates}, {"arrival", to_string(cfg.arrival)},
             {"max_in_flight", cfg.max_in_flight}};
  }
  loads["duration_s"] = cfg.duration_s;
  loads["requests"] = cfg.requests;
  loads["warmup_s"] = cfg.warmup_s;
  loads["warmup_requests"] = cfg.warmup_requests;
  loads["timeout_s"] = cfg.timeout_s;
  nlohmann::json out = {{"target", cfg.target},
          {"protocol", to_string(cfg.protocol)},
          {"model_id", cfg.model_id},
          {"tls", cfg.tls},
          {"stream", cfg.stream},
          {"connections", cfg.connections},
          {"poll_threads", resolved_poll_threads(cfg.poll_threads)},
          {"dataset", {{"path", cfg.dataset_path}, {"format", ds.format}, {"name", ds.name},
                       {"entries", ds.entries.size()}}},
          {"loads", loads},
          {"seed", cfg.seed},
          {"readiness", ready}};
  if (!cfg.server_deployment.is_null()) out["server_deployment"] = cfg.server_deployment;
  return out;
}

void progress_line(const LoadConfig& cfg, const StageState& st, const std::string& label, int nstages, TimeNs now,
                   bool tty) {
  const double el = ns_to_seconds(now - st.start_ns);
  std::string total = "?";
  if (cfg.duration_s > 0) total = fmt::format("{:.0f}s", cfg.duration_s + cfg.warmup_s);
  else if (cfg.requests > 0) total = fmt::format("{} req", cfg.requests);
  const double win_el = st.window_start_ns >= 0 ? ns_to_seconds(now - st.window_start_ns) : 0;
  const double tok_s = win_el > 0 ? static_cast<double>(st.window_tokens) / win_el : 0;
  std::cerr << fmt::format("{}[stage {}/{} {}] {:.1f}s/{} in-flight {} completed {} errors {} tok/s {:.1f}{}",
                           tty ? "\r" : "", st.index + 1, nstages, label, el, total, st.in_flight, st.completed,
                           st.errors, tok_s, tty ? "   " : "\n")
            << std::flush;
}

}  // namespace

LoadResult LoadRunner::run(const std::atomic<bool>* stop) {
  Impl& I = *impl_;
  const LoadConfig& cfg = I.cfg;
  const nlohmann::json ready = wait_until_ready(cfg);

  const int nconn = std::max(1, cfg.connections);
  for (int i = 0; i < nconn; ++i) {
    I.channels.push_back(make_channel(cfg, i));
    if (cfg.protocol == Protocol::kTgis) I.tgis.push_back(fmaas::GenerationService::NewStub(I.channels.back()));
    else I.caikit.push_back(caikit::runtime::Nlp::NlpService::NewStub(I.channels.back()));
  }
  I.start_pollers(resolved_poll_threads(cfg.poll_threads));
  std::filesystem::create_directories(cfg.out_dir);
  I.csv.open(cfg.out_dir / "requests.csv", std::ios::binary | std::ios::trunc);
  I.warmup_csv.open(cfg.out_dir / "warmup_requests.csv", std::ios::binary | std::ios::trunc);
  I.msg_csv.open(cfg.out_dir / "messages.csv", std::ios::binary | std::ios::trunc);
  if (!I.csv || !I.msg_csv || !I.warmup_csv) throw std::runtime_error("cannot write in " + cfg.out_dir.string());
  I.csv << request_csv_header() << '\n' << std::flush;
  I.warmup_csv << request_csv_header() << '\n' << std::flush;
  I.msg_csv << "request_id,seq,t_ns,generated_tokens\n" << std::flush;

  I.t0 = Clock::now();
  I.t0_wall = std::chrono::system_clock::now();
  const bool tty = isatty(STDERR_FILENO) != 0;
  const bool closed = !cfg.concurrency.empty();
  const int nstages = static_cast<int>(closed ? cfg.concurrency.size() : cfg.rates.size());
  LoadResult result;
  bool interrupted = false;

  for (int s = 0; s < nstages && !interrupted; ++s) {
    StageWindow w;
    w.stage = s;
    std::int64_t warm_before = 0;
    {
      std::lock_guard lk(I.mu);
      if (I.abort) break;
      I.st = StageState{};
      I.st.index = s;
      I.st.closed = closed;
      I.st.users = closed ? cfg.concurrency[static_cast<std::size_t>(s)] : std::max(cfg.max_in_flight, 1);
      I.st.sending = true;
      I.st.start_ns = I.now_ns();
      const std::size_t n = I.ds.entries.size();
      if (closed) {
        for (int u = 0; u < I.st.users; ++u) I.st.user_order.push_back(dataset_order(n, cfg.seed, static_cast<std::uint64_t>(u)));
      } else {
        // Open loop: one request sequence per stage, from a user index no closed-loop user takes.
        I.st.user_order.push_back(dataset_order(n, cfg.seed, (1ULL << 32U) + static_cast<std::uint64_t>(s)));
      }
      I.st.user_cursor.assign(I.st.user_order.size(), 0);
      warm_before = I.warmup_total;
    }
    if (closed) {
      w.label = fmt::format("concurrency={}", cfg.concurrency[static_cast<std::size_t>(s)]);
      w.load = {{"concurrency", cfg.concurrency[static_cast<std::size_t>(s)]}};
    } else {
      w.label = fmt::format("rate={}", cfg.rates[static_cast<std::size_t>(s)]);
      w.load = {{"rate_per_s", cfg.rates[static_cast<std::size_t>(s)]}, {"arrival", to_string(cfg.arrival)},
                {"max_in_flight", cfg.max_in_flight}};
    }
    w.start_ns = I.st.start_ns;

    std::optional<ArrivalGenerator> arrivals;
    TimeNs next_arrival = I.st.start_ns;
    if (closed) {
      for (int u = 0; u < I.st.users; ++u) I.launch(u);
    } else {
      arrivals.emplace(cfg.arrival, cfg.rates[static_cast<std::size_t>(s)], cfg.seed, static_cast<std::uint64_t>(s));
    }

    // Control loop: pace open-loop arrivals, watch the clock, signals and progress.
    TimeNs drain_since = -1;
    bool cancelled_all = false;
    TimeNs last_progress = 0;
    const TimeNs progress_every = tty ? 500 * kNsPerMs : 5 * kNsPerS;
    while (true) {
      const TimeNs now = I.now_ns();
      bool sending = false, done = false;
      {
        std::unique_lock lk(I.mu);
        if (stop != nullptr && stop->load() && I.st.sending) {
          I.st.sending = false;
          interrupted = true;
        }
        if (I.st.sending && I.st.window_end_ns >= 0 && now >= I.st.window_end_ns) I.st.sending = false;
        sending = I.st.sending;
        if (!sending && drain_since < 0) drain_since = now;
        done = !sending && I.st.in_flight == 0;
        if (cfg.progress && now - last_progress >= progress_every) {
          progress_line(cfg, I.st, w.label, nstages, now, tty);
          last_progress = now;
        }
      }
      if (done) break;
      std::vector<std::int64_t> users;
      {
        std::lock_guard lk(I.mu);
        users.swap(I.launch_pending);
      }
      for (const std::int64_t u : users) I.launch(u);
      if (!sending && !cancelled_all && now - drain_since > seconds_to_ns(cfg.timeout_s)) {
        // Waited long enough for in-flight requests: cancel the rest (recorded as unfinished).
        std::vector<CallBase*> calls;
        {
          std::lock_guard lk(I.mu);
          for (auto* c : I.live) {
            c->ref();
            calls.push_back(c);
          }
        }
        for (auto* c : calls) {
          c->cancel("drain timeout after stage end");
          c->unref();
        }
        cancelled_all = true;
      }
      if (!sending && cancelled_all && now - drain_since > seconds_to_ns(cfg.timeout_s) + 10 * kNsPerS) {
        std::cerr << "servetwin load: warning: requests still in flight 10 s after cancellation\n";
        break;
      }
      if (sending && !closed) {
        if (now >= next_arrival) {
          bool slot = true;
          if (cfg.max_in_flight > 0) {
            std::lock_guard lk(I.mu);
            slot = I.st.in_flight < cfg.max_in_flight;
          }
          if (slot) {
            I.launch(-1);
            next_arrival += arrivals->next_gap_ns();
            continue;
          }
        }
      }
      I.flush_records();
      // Sleep until the next arrival or a completion, at most 20 ms (to see signals promptly).
      std::unique_lock lk(I.mu);
      if (!I.launch_pending.empty()) continue;
      TimeNs wake = now + 20 * kNsPerMs;
      if (sending && !closed && next_arrival > now) wake = std::min(wake, next_arrival);
      I.cv.wait_until(lk, I.t0 + std::chrono::nanoseconds(wake));
    }
    {
      std::lock_guard lk(I.mu);
      I.launch_pending.clear();  // the stage is over: its users send nothing more
    }
    I.flush_records();
    if (cfg.progress) {
      std::lock_guard lk(I.mu);
      progress_line(cfg, I.st, w.label, nstages, I.now_ns(), tty);
      if (tty) std::cerr << '\n';
    }
    {
      std::lock_guard lk(I.mu);
      w.window_start_ns = I.st.window_start_ns >= 0 ? I.st.window_start_ns : I.st.start_ns;
      if (I.st.window_end_ns >= 0) {
        w.window_end_ns = I.st.window_end_ns;
      } else {
        // Request-count mode (or interrupted before the window was known): window ends at the
        // last finish of the stage's requests.
        TimeNs last = w.window_start_ns;
        for (const auto& r : I.records) {
          if (r.rec.stage == s) last = std::max(last, r.rec.finish_ns);
        }
        w.window_end_ns = last + 1;
      }
      // An interrupted duration stage measures only up to the interruption.
      if (interrupted || I.abort) w.window_end_ns = std::min(w.window_end_ns, std::max(drain_since, w.window_start_ns + 1));
      w.warmup_requests = I.warmup_total - warm_before;
      if (I.abort) interrupted = true;
    }
    result.stages.push_back(w);
  }

  I.flush_records();
  {
    std::lock_guard lk(I.mu);
    result.records = I.records;
    if (I.abort) {
      result.partial = true;
      result.partial_reason = I.abort_reason;
    } else if (interrupted) {
      result.partial = true;
      result.partial_reason = "interrupted by signal: stopped sending, waited for in-flight requests";
    }
  }
  result.t0 = I.t0;

  // Summary (same schema as the simulator) and llm-load-test JSON per stage.
  ScenarioResult sc;
  sc.name = fmt::format("live {} {}", to_string(cfg.protocol), cfg.target);
  sc.resolved_config = resolved_config(cfg, I.ds, ready);
  std::vector<RequestRecord> recs;
  recs.reserve(result.records.size());
  for (const auto& r : result.records) recs.push_back(r.rec);
  for (const auto& w : result.stages) {
    const StageMetrics m = compute_stage_metrics(recs, w.stage, w.window_start_ns, w.window_end_ns);
    std::vector<double> acks;
    std::map<std::string, std::int64_t> codes;
    for (const auto& r : result.records) {
      if (r.rec.stage != w.stage) continue;
      ++codes[status_code_name(static_cast<grpc::StatusCode>(r.grpc_code))];
      if (r.rec.status == RequestStatus::kOk && r.rec.ack_ns >= 0) acks.push_back(ns_to_ms(r.rec.ack_ns - r.rec.arrival_ns));
    }
    const Distribution a = summarize(acks);
    sc.stages.push_back({{"load", w.load},
                         {"label", w.label},
                         {"metrics", m.to_json()},
                         {"window", {{"stage_start_ns", w.start_ns}, {"start_ns", w.window_start_ns},
                                     {"end_ns", w.window_end_ns}}},
                         {"warmup_requests", w.warmup_requests},
                         {"tt_ack_ms", {{"n", a.n}, {"mean", a.mean}, {"p50", a.p50}, {"p99", a.p99}}},
                         {"grpc_status_counts", codes}});
    const auto llt = llm_load_test_json(cfg, w, result.records, I.t0_wall);
    const std::string fname = closed ? fmt::format("output-{:03d}.json", cfg.concurrency[static_cast<std::size_t>(w.stage)])
                                     : fmt::format("output-rate-{}.json", cfg.rates[static_cast<std::size_t>(w.stage)]);
    write_json_file(cfg.out_dir / "llm-load-test" / fname, llt);
  }
  RunInfo info;
  info.producer = "live";
  info.seed = cfg.seed;
  info.partial = result.partial;
  info.partial_reason = result.partial_reason;
  result.summary = make_summary(info, {sc});
  write_json_file(cfg.out_dir / "summary.json", result.summary);
  return result;
}

// ---------------------------------------------------------------------------------------------
namespace {

// numpy-style linear-interpolation percentile of sorted values.
double pct(const std::vector<double>& v, double q) {
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

nlohmann::json llt_stats(std::vector<double> v) {
  nlohmann::json j;
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) {
    for (const char* k : {"min", "max", "median", "mean", "percentile_80", "percentile_90", "percentile_95",
                          "percentile_99"}) {
      j[k] = nullptr;  // llm-load-test writes NaN as null
    }
    return j;
  }
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (const double x : v) sum += x;
  j["min"] = v.front();
  j["max"] = v.back();
  j["median"] = pct(v, 0.5);
  j["mean"] = sum / static_cast<double>(v.size());
  j["percentile_80"] = pct(v, 0.8);
  j["percentile_90"] = pct(v, 0.9);
  j["percentile_95"] = pct(v, 0.95);
  j["percentile_99"] = pct(v, 0.99);
  return j;
}

}  // namespace

nlohmann::json llm_load_test_json(const LoadConfig& cfg, const StageWindow& w, const std::vector<LiveRecord>& records,
                                  std::chrono::system_clock::time_point t0_wall) {
  const double t0_epoch_s = std::chrono::duration<double>(t0_wall.time_since_epoch()).count();
  auto epoch = [&](TimeNs t) -> nlohmann::json {
    if (t < 0) return nullptr;
    return t0_epoch_s + ns_to_seconds(t);
  };
  nlohmann::json results = nlohmann::json::array();
  std::vector<double> tpot, ttft, itl, tt_ack, rt, out, out_before, in;
  double tokens_before = 0, tokens_all = 0;
  TimeNs min_start = -1, max_end = -1;
  std::int64_t total = 0, failures = 0, within = 0;
  for (const auto& lr : records) {
    const auto& r = lr.rec;
    if (r.stage != w.stage) continue;
    ++total;
    // Tokens received before the stage deadline (llm-load-test's output_tokens_before_timeout).
    std::int64_t before = 0;
    for (const auto& [t, cum] : lr.messages) {
      if (t < w.window_end_ns) before = cum;
    }
    nlohmann::json j = {{"user_id", r.user_id},
                        {"input_id", lr.input_id},
                        {"input_tokens", r.input_tokens},
                        {"output_text", nullptr},  // not kept: the runner stores counts and times only
                        {"output_tokens", r.output_tokens},
                        {"output_tokens_before_timeout", before},
                        {"start_time", epoch(r.arrival_ns)},
                        {"ack_time", epoch(r.ack_ns)},
                        {"first_token_time", epoch(r.first_token_ns)},
                        {"end_time", epoch(r.finish_ns)},
                        {"stop_reason", r.stop_reason},
                        {"error_code", nullptr},
                        {"error_text", nullptr},
                        {"response_time", nullptr},
                        {"tt_ack", nullptr},
                        {"ttft", nullptr},
                        {"itl", nullptr},
                        {"tpot", nullptr}};
    if (r.status != RequestStatus::kOk) {
      ++failures;
      j["error_code"] = lr.grpc_code != 0 ? nlohmann::json(lr.grpc_code) : nlohmann::json(to_string(r.status));
      j["error_text"] = r.error;
      results.push_back(std::move(j));
      continue;
    }
    const double resp_ms = ns_to_ms(r.finish_ns - r.arrival_ns);
    j["response_time"] = resp_ms;
    const double ack_ms = r.ack_ns >= 0 ? ns_to_ms(r.ack_ns - r.arrival_ns) : std::nan("");
    const double ttft_ms = r.first_token_ns >= 0 ? ns_to_ms(r.first_token_ns - r.arrival_ns) : std::nan("");
    const double itl_ms = r.output_tokens > 1 && r.first_token_ns >= 0
                              ? ns_to_ms(r.finish_ns - r.first_token_ns) / static_cast<double>(r.output_tokens - 1)
                              : std::nan("");
    const double tpot_ms = r.output_tokens > 0 ? resp_ms / static_cast<double>(r.output_tokens) : std::nan("");
    if (!std::isnan(ack_ms)) j["tt_ack"] = ack_ms;
    if (!std::isnan(ttft_ms)) j["ttft"] = ttft_ms;
    if (!std::isnan(itl_ms)) j["itl"] = itl_ms;
    if (!std::isnan(tpot_ms)) j["tpot"] = tpot_ms;
    const bool finished_in_time = before == r.output_tokens;
    if (finished_in_time) {
      ++within;
      tpot.push_back(tpot_ms);
      ttft.push_back(ttft_ms);
      itl.push_back(itl_ms);
      tt_ack.push_back(ack_ms);
    }
    rt.push_back(resp_ms);
    out.push_back(static_cast<double>(r.output_tokens));
    out_before.push_back(static_cast<double>(before));
    in.push_back(static_cast<double>(r.input_tokens));
    tokens_before += static_cast<double>(before);
    tokens_all += static_cast<double>(r.output_tokens);
    min_start = min_start < 0 ? r.arrival_ns : std::min(min_start, r.arrival_ns);
    max_end = std::max(max_end, r.finish_ns);
    results.push_back(std::move(j));
  }
  const double target_duration_s = ns_to_seconds(w.window_end_ns - w.window_start_ns);
  const double full_s = min_start >= 0 ? ns_to_seconds(max_end - min_start) : 0;
  nlohmann::json summary = {{"tpot", llt_stats(tpot)},
                            {"ttft", llt_stats(ttft)},
                            {"itl", llt_stats(itl)},
                            {"tt_ack", llt_stats(tt_ack)},
                            {"response_time", llt_stats(rt)},
                            {"output_tokens", llt_stats(out)},
                            {"output_tokens_before_timeout", llt_stats(out_before)},
                            {"input_tokens", llt_stats(in)},
                            {"throughput", target_duration_s > 0 ? tokens_before / target_duration_s : 0.0},
                            {"throughput_full_duration", full_s > 0 ? tokens_all / full_s : 0.0},
                            {"full_duration", full_s},
                            {"total_requests", total},
                            {"req_completed_within_test_duration", within},
                            {"total_failures", failures},
                            {"failure_rate", total > 0 ? 100.0 * static_cast<double>(failures) / static_cast<double>(total)
                                                       : 0.0}};
  const auto colon = cfg.target.rfind(':');
  nlohmann::json config = {
      {"load_options",
       {{"type", cfg.concurrency.empty() ? to_string(cfg.arrival) : "constant"},
        {"duration", target_duration_s}}},
      {"plugin", cfg.protocol == Protocol::kTgis ? "tgis_grpc_plugin" : "caikit_grpc"},
      {"plugin_options",
       {{"host", colon == std::string::npos ? cfg.target : cfg.target.substr(0, colon)},
        {"port", colon == std::string::npos ? "" : cfg.target.substr(colon + 1)},
        {"model_name", cfg.model_id},
        {"streaming", cfg.stream},
        {"use_tls", cfg.tls}}},
      {"dataset", {{"file", cfg.dataset_path}}},
      {"producer", "servetwin live"}};
  for (auto it = w.load.begin(); it != w.load.end(); ++it) config["load_options"][it.key()] = it.value();
  return {{"results", results}, {"config", config}, {"summary", summary}};
}

}  // namespace servetwin::live
