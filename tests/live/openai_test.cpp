// The OpenAI HTTP/SSE client: the SSE splitter (byte by byte), the wire format, and the runner
// against a fake OpenAI server on loopback: happy paths with exact token counts, and each fault
// recorded with its error class.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <sstream>
#include <thread>

#include "live/load/openai_wire.hpp"
#include "live/load/sse.hpp"
#include "tests/live/fake_openai_server.hpp"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

// A stream in vLLM's shape with every line ending the format allows, a comment, a multi-line
// event, a field without the space after the colon, and ignored fields.
const std::string kTranscript =
    ": ping\r\n"
    "data: {\"a\":1}\r\n\r\n"
    "event: message\nid: 7\nretry: 10\ndata:{\"b\":2}\n\n"
    "data: line1\ndata: line2\n\n"
    "data: {\"c\":3}\r\r"
    "data: [DONE]\n\n";
const std::vector<std::string> kEvents = {"{\"a\":1}", "{\"b\":2}", "line1\nline2", "{\"c\":3}", "[DONE]"};

TEST(OpenAiSse, WholeAndByteByByteGiveTheSameEvents) {
  {
    live::SseSplitter s;
    std::vector<std::string> ev;
    EXPECT_EQ(s.feed(kTranscript, ev), "");
    EXPECT_EQ(ev, kEvents);
    EXPECT_FALSE(s.pending());
  }
  {
    live::SseSplitter s;
    std::vector<std::string> ev;
    for (const char c : kTranscript) ASSERT_EQ(s.feed(std::string_view(&c, 1), ev), "");
    EXPECT_EQ(ev, kEvents);
  }
  // Every split into two feeds.
  for (std::size_t cut = 0; cut <= kTranscript.size(); ++cut) {
    live::SseSplitter s;
    std::vector<std::string> ev;
    ASSERT_EQ(s.feed(std::string_view(kTranscript).substr(0, cut), ev), "");
    ASSERT_EQ(s.feed(std::string_view(kTranscript).substr(cut), ev), "");
    EXPECT_EQ(ev, kEvents) << "split at byte " << cut;
  }
}

TEST(OpenAiSse, MalformedLineAndCutStream) {
  live::SseSplitter s;
  std::vector<std::string> ev;
  const std::string err = s.feed("data: {\"a\":1}\n\ndta: x\n\ndata: {\"b\":2}\n\n", ev);
  EXPECT_NE(err.find("malformed SSE line"), std::string::npos) << err;
  EXPECT_NE(err.find("dta: x"), std::string::npos) << err;
  EXPECT_EQ(ev, std::vector<std::string>{"{\"a\":1}"});
  EXPECT_EQ(s.feed("data: more\n\n", ev), err);  // stays failed
  live::SseSplitter cut;
  EXPECT_EQ(cut.feed("data: {\"a\"", ev), "");
  EXPECT_TRUE(cut.pending());
}

// Real vLLM 0.11.2 answers (tests/live/data, saved by the real-engine conformance work from
// `vllm serve` on CPU with a tiny Llama: 18 prompt tokens, max_tokens 12).
std::string real_transcript(const char* name) {
  std::ifstream f(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "tests/live/data" / name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST(OpenAiSse, RealVllmTranscriptByteByByte) {
  const std::string sse = real_transcript("vllm-0.11.2-completions-stream.sse");
  ASSERT_FALSE(sse.empty());
  live::SseSplitter s;
  std::vector<std::string> ev;
  for (const char c : sse) ASSERT_EQ(s.feed(std::string_view(&c, 1), ev), "");
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back(), "[DONE]");
  int text_events = 0;
  std::string finish;
  live::OpenAiPiece usage;
  for (std::size_t i = 0; i + 1 < ev.size(); ++i) {
    live::OpenAiPiece p;
    ASSERT_EQ(live::parse_openai_piece(ev[i], false, true, p), "") << ev[i];
    text_events += p.has_choice && !p.text.empty();
    if (!p.finish_reason.empty()) finish = p.finish_reason;
    if (p.completion_tokens) usage = p;
  }
  EXPECT_EQ(text_events, 12);
  EXPECT_EQ(finish, "length");
  EXPECT_EQ(usage.completion_tokens, 12);
  EXPECT_EQ(usage.prompt_tokens, 18);
  EXPECT_FALSE(usage.has_choice);  // the usage chunk has choices: []
}

TEST(OpenAiWire, RequestBodiesTargetsAndChunks) {
  PromptSample e;
  e.text = "hello";
  e.max_new_tokens = 12;
  e.min_new_tokens = 12;
  live::OpenAiRequestOptions o;
  o.model = "m";
  auto j = nlohmann::json::parse(live::openai_request_body(o, e));
  EXPECT_EQ(j["model"], "m");
  EXPECT_EQ(j["prompt"], "hello");
  EXPECT_EQ(j["max_tokens"], 12);
  EXPECT_EQ(j["min_tokens"], 12);
  EXPECT_EQ(j["ignore_eos"], true);
  EXPECT_EQ(j["temperature"], 0.0);
  EXPECT_EQ(j["stream"], true);
  EXPECT_EQ(j["stream_options"]["include_usage"], true);
  o.chat = true;
  o.stream = false;
  o.ignore_eos = false;
  j = nlohmann::json::parse(live::openai_request_body(o, e));
  EXPECT_EQ(j["messages"][0]["role"], "user");
  EXPECT_EQ(j["messages"][0]["content"], "hello");
  EXPECT_EQ(j["max_completion_tokens"], 12);
  EXPECT_FALSE(j.contains("ignore_eos"));
  EXPECT_FALSE(j.contains("stream_options"));
  EXPECT_STREQ(live::openai_path(true), "/v1/chat/completions");

  const auto t = live::parse_http_target("https://example.com:8443/");
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.host, "example.com");
  EXPECT_EQ(t.port, "8443");
  EXPECT_EQ(live::parse_http_target("http://127.0.0.1").port, "80");
  EXPECT_THROW(live::parse_http_target("127.0.0.1:8000"), std::invalid_argument);
  EXPECT_THROW(live::parse_http_target("http://h:80/v1"), std::invalid_argument);

  live::OpenAiPiece p;
  EXPECT_EQ(live::parse_openai_piece(
                R"({"choices":[{"index":0,"text":" a","finish_reason":null}],"usage":null})", false, true, p),
            "");
  EXPECT_TRUE(p.has_choice);
  EXPECT_EQ(p.text, " a");
  EXPECT_FALSE(p.completion_tokens.has_value());
  EXPECT_EQ(live::parse_openai_piece(R"({"choices":[{"delta":{"role":"assistant","content":""}}]})", true, true, p), "");
  EXPECT_TRUE(p.has_choice);
  EXPECT_EQ(p.text, "");
  EXPECT_EQ(live::parse_openai_piece(
                R"({"choices":[],"usage":{"prompt_tokens":5,"total_tokens":8,"completion_tokens":3}})", true, true, p),
            "");
  EXPECT_FALSE(p.has_choice);
  EXPECT_EQ(p.prompt_tokens, 5);
  EXPECT_EQ(p.completion_tokens, 3);
  EXPECT_EQ(live::parse_openai_piece(R"({"error":{"message":"boom","code":500}})", false, true, p), "");
  EXPECT_EQ(p.error, "boom");
  EXPECT_NE(live::parse_openai_piece("{not json", false, true, p), "");
  EXPECT_NE(live::parse_openai_piece(R"({"choices":{}})", false, true, p), "");
  EXPECT_EQ(live::openai_error_message(R"({"object":"error","message":"too long"})"), "too long");
}

// The parser's one-pass fast path either declines a piece or reads exactly what the full parser
// reads: well-formed chunks (completions, chat, usage, nulls, extra choices) and malformed ones
// (wrong types, duplicates, error bodies, not JSON), in every API and streaming mode.
TEST(OpenAiWire, FastPathAgreesWithTheFullParserOrDeclines) {
  const std::vector<std::string> pieces = {
      R"({"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" a","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null})",
      R"({"choices":[{"index":0,"text":" b","finish_reason":"length","stop_reason":null}],"usage":{"prompt_tokens":5,"total_tokens":8,"completion_tokens":3}})",
      R"({"choices":[{"delta":{"role":"assistant","content":"","reasoning_content":null},"logprobs":null,"finish_reason":null}]})",
      R"({"choices":[{"delta":{"content":" x\u00e9\n"},"finish_reason":"stop"},{"delta":{"content":"other"}}]})",
      R"({"choices":[{"message":{"role":"assistant","content":"whole"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2}})",
      R"({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3}})",
      R"({"choices":null,"usage":{"prompt_tokens":null,"completion_tokens":7}})",
      R"({"choices":[{"text":null,"delta":null,"finish_reason":null}]})",
      R"({"nested":{"choices":{"text":1},"usage":[true]},"choices":[{"text":"ok","x":[{"finish_reason":3}]}]})",
      R"({"choices":{}})", R"({"choices":[3]})", R"({"choices":[null]})", R"({"choices":[{"text":5}]})",
      R"({"choices":[{"finish_reason":true}]})", R"({"choices":[{"delta":"s"}]})", R"({"choices":[{"delta":{"content":1}}]})",
      R"({"choices":[{"message":[]}]})", R"({"usage":[]})", R"({"usage":{"completion_tokens":1.5}})",
      R"({"usage":{"completion_tokens":"3"}})", R"({"usage":{"completion_tokens":-2}})",
      R"({"usage":{"completion_tokens":18446744073709551615}})", R"({"choices":[{"text":"a"}],"choices":[{"text":"b"}]})",
      R"({"choices":[{"text":"a","text":"b"}]})", R"({"error":{"message":"boom"}})", R"({"error":"plain"})",
      "[1]", "null", "3", "\"s\"", "{not json", R"({"choices":[{"text":"a"}]} trailing)", "", "{}",
      // Strings: escapes, \u with and without surrogate pairs, raw UTF-8, and what JSON forbids.
      R"({"choices":[{"text":"q\"b\\s\/f\b\f\n\r\t"}]})", R"({"choices":[{"text":"\u0041\u00e9\u20ac\ud83d\ude00"}]})",
      R"({"choices":[{"text":"\ud83d"}]})", R"({"choices":[{"text":"\ude00x"}]})", R"({"choices":[{"text":"\ud83d\u0041"}]})",
      R"({"choices":[{"text":"\u00G1"}]})", R"({"choices":[{"text":"\x"}]})", "{\"choices\":[{\"text\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}]}",
      "{\"choices\":[{\"text\":\"\xc3\"}]}", "{\"choices\":[{\"text\":\"\xc0\xaf\"}]}", "{\"choices\":[{\"text\":\"\xed\xa0\x80\"}]}",
      "{\"choices\":[{\"text\":\"\xf4\x90\x80\x80\"}]}", "{\"choices\":[{\"text\":\"a\tb\"}]}", "{\"choices\":[{\"text\":\"a\x7f\"}]}",
      // Numbers, literals, structure.
      R"({"usage":{"completion_tokens":007}})", R"({"usage":{"completion_tokens":0}})", R"({"usage":{"completion_tokens":-0}})",
      R"({"usage":{"completion_tokens":3e2}})", R"({"created":1.5e3,"choices":[]})", R"({"created":-1,"choices":[]})",
      R"({"x":[true,false,null,{"a":[]}],"choices":[]})", R"({"x":tru})", R"({"x":nul})", R"({"choices":[],})", R"({"choices":[1,]})",
      R"({"a":1 "b":2})", " \t\r\n{ \"choices\" : [ { \"text\" : \"w\" } ] } \n", R"({"ch\u006fices":[{"text":"k"}]})",
      "\xef\xbb\xbf{\"choices\":[]}", R"({"":1,"choices":[{"text":"e"}]})", R"({"x":{"error":1},"choices":[]})",
      R"({"usage":{"prompt_tokens":123456789012345678,"completion_tokens":1234567890123456789}})",
      std::string(70, '[') + std::string(70, ']'), "{\"x\":" + std::string(70, '[') + std::string(70, ']') + "}"};
  int fast = 0;
  for (const auto& piece : pieces) {
    for (const bool chat : {false, true}) {
      for (const bool stream : {false, true}) {
        live::OpenAiPiece a, b;
        const std::string full = live::parse_openai_piece_full(piece, chat, stream, b);
        EXPECT_EQ(live::parse_openai_piece(piece, chat, stream, a), full) << piece;
        if (!live::parse_openai_piece_fast(piece, chat, stream, a)) continue;
        ++fast;
        EXPECT_EQ(full, "") << piece;
        EXPECT_EQ(a.has_choice, b.has_choice) << piece;
        EXPECT_EQ(a.text, b.text) << piece;
        EXPECT_EQ(a.finish_reason, b.finish_reason) << piece;
        EXPECT_EQ(a.prompt_tokens, b.prompt_tokens) << piece;
        EXPECT_EQ(a.completion_tokens, b.completion_tokens) << piece;
        EXPECT_EQ(a.error, b.error) << piece;
      }
    }
  }
  EXPECT_GE(fast, 30);  // the well-formed pieces take the fast path
}

live::LoadConfig openai_config(int port, const std::filesystem::path& ds, const std::filesystem::path& out) {
  auto c = base_config(port, ds, out);
  c.target = "http://127.0.0.1:" + std::to_string(port);
  c.protocol = live::Protocol::kOpenaiCompletions;
  c.poll_threads = 1;
  return c;
}

// Each dataset entry's exact output length (the test datasets have min == max).
std::map<std::string, std::int64_t> output_by_id(const Dataset& ds) {
  std::map<std::string, std::int64_t> out;
  for (const auto& e : ds.samples) out[e.id] = e.max_new_tokens;
  return out;
}

// Runs cfg (2 users, 6 requests) and checks that every request is ok with the dataset's exact
// output length, counted by `method`.
std::vector<live::LiveRecord> run_six_exact(live::LoadConfig cfg, const Dataset& ds, const std::string& method) {
  cfg.concurrency = {2};
  cfg.requests = 6;
  live::LoadRunner runner(cfg, ds);
  auto res = runner.run(nullptr);
  EXPECT_EQ(res.records.size(), 6U);
  const auto expected_out = output_by_id(ds);
  for (const auto& r : res.records) {
    EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
    EXPECT_EQ(r.rec.output_tokens, expected_out.at(r.input_id));
    EXPECT_EQ(r.token_count_method, method);
  }
  return res.records;
}

nlohmann::json read_summary(const std::filesystem::path& out) {
  std::ifstream f(out / "summary.json");
  return nlohmann::json::parse(f);
}

// Streaming completions: exact token counts from usage, one message per SSE chunk (plus the ack),
// keep-alive connections reused (at most one per user, plus readiness), request fields as sent.
TEST(OpenAiRunner, StreamingCompletionsExactCounts) {
  const auto dir = temp_dir("oai-stream");
  const auto ds_path = write_dataset(dir, 16, 5, 9);
  const auto ds = load_dataset(ds_path, "");
  FakeOpenAiServer server([](const FakeOpenAiRequest&) { return FakeOpenAiReply{}; });
  auto cfg = openai_config(server.port(), ds_path, dir / "out");
  cfg.api_key = "sk-test";
  cfg.concurrency = {4};
  cfg.requests = 24;
  live::LoadRunner runner(cfg, ds);
  const auto res = runner.run(nullptr);
  ASSERT_FALSE(res.partial) << res.partial_reason;
  ASSERT_EQ(res.records.size(), 24U);
  const auto expected_out = output_by_id(ds);
  for (const auto& r : res.records) {
    EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
    EXPECT_EQ(r.rec.output_tokens, expected_out.at(r.input_id));
    EXPECT_GT(r.rec.input_tokens, 0);
    EXPECT_EQ(r.rec.stop_reason, "length");
    EXPECT_EQ(r.token_count_method, "usage");
    EXPECT_EQ(r.status_code, 200);
    // ack, one message per token chunk, then [DONE] with the usage count.
    EXPECT_EQ(static_cast<std::int64_t>(r.messages.size()), r.rec.output_tokens + 2);
    EXPECT_LT(r.rec.ack_ns, r.rec.first_token_ns + 1);
    EXPECT_LE(r.rec.first_token_ns, r.rec.finish_ns);
  }
  EXPECT_LE(server.connections_accepted(), 5);  // 4 users + the readiness check
  const auto reqs = server.requests();
  ASSERT_GT(reqs.size(), 1U);
  EXPECT_EQ(reqs[0].target, "/v1/models");
  const auto& b = reqs[1].body;
  EXPECT_EQ(reqs[1].target, "/v1/completions");
  EXPECT_EQ(reqs[1].authorization, "Bearer sk-test");
  EXPECT_EQ(b["model"], "fake-model");  // from GET /v1/models
  EXPECT_EQ(b["stream"], true);
  EXPECT_EQ(b["stream_options"]["include_usage"], true);
  EXPECT_EQ(b["ignore_eos"], true);
  EXPECT_EQ(b["max_tokens"], b["min_tokens"]);
  const auto summary = read_summary(cfg.out_dir);
  const auto& st = summary["scenarios"][0]["stages"][0];
  EXPECT_EQ(st["http_status_counts"]["200"], 24);
  EXPECT_EQ(st["token_count_methods"]["usage"], 24);
  EXPECT_EQ(st["metrics"]["completed"], 24);
  EXPECT_EQ(summary["scenarios"][0]["resolved_config"]["protocol"], "openai-completions");
  EXPECT_EQ(read_lines(cfg.out_dir / "requests.csv").size(), 25U);
}

// Chat without the usage chunk: counted per chunk (the role-only first chunk is not a token), and
// the body split into 1-byte HTTP chunks (every byte boundary) changes nothing.
TEST(OpenAiRunner, ChatWithoutUsageCountsChunksAtEveryByteSplit) {
  const auto dir = temp_dir("oai-chat");
  const auto ds_path = write_dataset(dir, 8, 3, 6);
  const auto ds = load_dataset(ds_path, "");
  FakeOpenAiServer server([](const FakeOpenAiRequest&) {
    FakeOpenAiReply r;
    r.usage = false;
    r.chunk_bytes = 1;
    return r;
  });
  auto cfg = openai_config(server.port(), ds_path, dir / "out");
  cfg.protocol = live::Protocol::kOpenaiChat;
  run_six_exact(cfg, ds, "chunks");
  EXPECT_EQ(server.requests()[1].target, "/v1/chat/completions");
  EXPECT_EQ(read_summary(cfg.out_dir)["scenarios"][0]["stages"][0]["token_count_methods"]["chunks"], 6);
}

TEST(OpenAiRunner, NonStreamingTakesUsage) {
  const auto dir = temp_dir("oai-whole");
  const auto ds_path = write_dataset(dir, 8, 4, 7);
  const auto ds = load_dataset(ds_path, "");
  FakeOpenAiServer server([](const FakeOpenAiRequest&) { return FakeOpenAiReply{}; });
  auto cfg = openai_config(server.port(), ds_path, dir / "out");
  cfg.stream = false;
  for (const auto& r : run_six_exact(cfg, ds, "usage")) {
    EXPECT_EQ(r.rec.first_token_ns, r.rec.finish_ns);  // no stream: first token = end
  }
  EXPECT_EQ(server.requests()[1].body["stream"], false);
}

// One run with a fault per request id: every request is recorded, each with its class.
TEST(OpenAiRunner, FaultsAreRecordedWithTheirClass) {
  const auto dir = temp_dir("oai-faults");
  const auto ds_path = write_dataset(dir, 8, 5, 5);
  FakeOpenAiServer server([](const FakeOpenAiRequest& q) {
    FakeOpenAiReply r;
    switch (std::stoi(q.request_id) % 6) {
      case 1: r.kind = FakeOpenAiReply::kCloseMidStream; break;
      case 2: r.kind = FakeOpenAiReply::kMalformedLine; break;
      case 3: r.kind = FakeOpenAiReply::kStatus; r.status = 500; break;
      case 4: r.kind = FakeOpenAiReply::kStatus; r.status = 429; r.retry_after = "3"; break;
      case 5: r.kind = FakeOpenAiReply::kStreamError; break;
      default: break;
    }
    return r;
  });
  auto cfg = openai_config(server.port(), ds_path, dir / "out");
  cfg.concurrency = {3};
  cfg.requests = 18;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto res = runner.run(nullptr);
  ASSERT_FALSE(res.partial) << res.partial_reason;
  ASSERT_EQ(res.records.size(), 18U);  // nothing lost
  std::map<std::string, int> by_class;
  for (const auto& r : res.records) {
    const auto kind = r.rec.request_id % 6;
    ++by_class[r.status_name];
    switch (kind) {
      case 0: EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error; EXPECT_EQ(r.rec.output_tokens, 5); break;
      case 1:
        EXPECT_EQ(r.rec.status, RequestStatus::kError);
        EXPECT_EQ(r.status_name, "connection_closed") << r.rec.error;
        EXPECT_EQ(r.rec.output_tokens, 2);  // the tokens received before the close
        break;
      case 2:
        EXPECT_EQ(r.rec.status, RequestStatus::kError);
        EXPECT_NE(r.rec.error.find("protocol: malformed SSE line"), std::string::npos) << r.rec.error;
        break;
      case 3:
        EXPECT_EQ(r.rec.status, RequestStatus::kError);
        EXPECT_EQ(r.status_code, 500);
        EXPECT_EQ(r.rec.error, "HTTP 500: fake error 500");
        break;
      case 4:
        EXPECT_EQ(r.rec.status, RequestStatus::kRejected);
        EXPECT_EQ(r.rec.error, "HTTP 429: fake error 429 (Retry-After: 3)");
        break;
      default:
        EXPECT_EQ(r.rec.status, RequestStatus::kError);
        EXPECT_EQ(r.rec.error, "server error in stream: engine died");
        break;
    }
  }
  const auto summary = read_summary(cfg.out_dir);
  const auto& st = summary["scenarios"][0]["stages"][0];
  EXPECT_EQ(st["http_status_counts"]["200"], 3);
  EXPECT_EQ(st["http_status_counts"]["500"], 3);
  EXPECT_EQ(st["http_status_counts"]["429"], 3);
  EXPECT_EQ(st["metrics"]["rejected"], 3);
  EXPECT_EQ(read_lines(cfg.out_dir / "requests.csv").size(), 19U);
}

// The runner against a server replaying real vLLM answers: the same counts as vLLM's usage.
TEST(OpenAiRunner, ReplaysRealVllmAnswers) {
  const auto dir = temp_dir("oai-real");
  const auto ds_path = write_dataset(dir, 4, 12, 12);
  const std::string sse = real_transcript("vllm-0.11.2-completions-stream.sse");
  const std::string whole = real_transcript("vllm-0.11.2-completions.json");
  const std::string error = real_transcript("vllm-0.11.2-completions-error-max-tokens.json");
  FakeOpenAiServer server([&](const FakeOpenAiRequest& q) {
    FakeOpenAiReply r;
    const bool stream = q.body.value("stream", false);
    r.raw_body = stream ? sse : whole;
    r.chunk_bytes = 7;  // the body over several HTTP chunks, split inside lines
    if (std::stoi(q.request_id) % 2 == 1) {
      r.kind = FakeOpenAiReply::kStatus;
      r.status = 400;
      r.raw_body = error;
    }
    return r;
  });
  for (const bool stream : {true, false}) {
    auto cfg = openai_config(server.port(), ds_path, dir / (stream ? "stream" : "whole"));
    cfg.stream = stream;
    cfg.concurrency = {1};
    cfg.requests = 4;
    live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
    const auto res = runner.run(nullptr);
    ASSERT_EQ(res.records.size(), 4U);
    for (const auto& r : res.records) {
      if (r.rec.request_id % 2 == 1) {
        EXPECT_EQ(r.rec.status, RequestStatus::kError);
        EXPECT_EQ(r.status_code, 400);
        EXPECT_EQ(r.rec.error.rfind("HTTP 400: This model's maximum context length is", 0), 0U) << r.rec.error;
        continue;
      }
      EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
      EXPECT_EQ(r.rec.output_tokens, 12);
      EXPECT_EQ(r.rec.input_tokens, 18);
      EXPECT_EQ(r.rec.stop_reason, "length");
      EXPECT_EQ(r.token_count_method, "usage");
      if (stream) {
        EXPECT_EQ(r.messages.size(), 14U);  // ack, 12 text events, [DONE]
      }
    }
  }
}

TEST(OpenAiRunner, StalledServerTimesOutPerRequest) {
  const auto dir = temp_dir("oai-stall");
  const auto ds_path = write_dataset(dir, 4, 5, 5);
  FakeOpenAiServer server([](const FakeOpenAiRequest&) {
    FakeOpenAiReply r;
    r.kind = FakeOpenAiReply::kStall;
    return r;
  });
  auto cfg = openai_config(server.port(), ds_path, dir / "out");
  cfg.concurrency = {2};
  cfg.requests = 2;
  cfg.timeout_s = 0.5;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto t0 = std::chrono::steady_clock::now();
  const auto res = runner.run(nullptr);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ASSERT_EQ(res.records.size(), 2U);
  for (const auto& r : res.records) {
    EXPECT_EQ(r.rec.status, RequestStatus::kTimeout) << r.rec.error;
    EXPECT_EQ(r.status_name, "timeout");
  }
}

// An https:// target whose server does not speak TLS: the handshake fails for every request
// (readiness skipped, so the requests themselves meet the failure).
TEST(OpenAiRunner, TlsHandshakeFailureIsRecorded) {
  const auto dir = temp_dir("oai-tls");
  const auto ds_path = write_dataset(dir, 4, 5, 5);
  FakeOpenAiServer server([](const FakeOpenAiRequest&) { return FakeOpenAiReply{}; });
  auto cfg = openai_config(server.port(), ds_path, dir / "out");
  cfg.target = "https://127.0.0.1:" + std::to_string(server.port());
  cfg.ready_timeout_s = 0;
  cfg.concurrency = {2};
  cfg.requests = 4;
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto res = runner.run(nullptr);
  ASSERT_EQ(res.records.size(), 4U);
  for (const auto& r : res.records) {
    EXPECT_EQ(r.rec.status, RequestStatus::kError);
    EXPECT_EQ(r.status_name, "tls_error");
    EXPECT_NE(r.rec.error.find("TLS handshake"), std::string::npos) << r.rec.error;
  }
  // With readiness on, the run fails before the load, naming the check and the TLS error.
  cfg.ready_timeout_s = 0.3;
  cfg.out_dir = dir / "out2";
  live::LoadRunner again(cfg, load_dataset(ds_path, ""));
  try {
    again.run(nullptr);
    ADD_FAILURE() << "expected a readiness failure";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("GET /v1/models"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("TLS handshake"), std::string::npos) << e.what();
  }
}

// TLS end to end: a self-signed certificate for 127.0.0.1 (made with the openssl command).
// Trusted with --ca-file: requests succeed; from the system store: the handshake fails
// (certificate verify failed) and each request says so; --insecure: succeeds without trust.
TEST(OpenAiRunner, TlsWithCaFileSystemStoreAndInsecure) {
  const auto dir = temp_dir("oai-tls-ok");
  const auto cert = dir / "cert.pem", key = dir / "key.pem";
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=servetwin-test "
                          "-addext subjectAltName=IP:127.0.0.1 -keyout " + key.string() + " -out " + cert.string() +
                          " > " + (dir / "openssl.log").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl req failed; see " << (dir / "openssl.log");
  const auto ds_path = write_dataset(dir, 4, 5, 5);
  FakeOpenAiServer server([](const FakeOpenAiRequest&) { return FakeOpenAiReply{}; }, {cert.string(), key.string()});
  auto cfg = openai_config(server.port(), ds_path, dir / "ca");
  cfg.target = "https://127.0.0.1:" + std::to_string(server.port());
  cfg.ca_file = cert.string();
  cfg.concurrency = {2};
  cfg.requests = 4;
  auto run = [&](const live::LoadConfig& c) {
    live::LoadRunner runner(c, load_dataset(ds_path, ""));
    return runner.run(nullptr);
  };
  const auto trusted = run(cfg);
  ASSERT_EQ(trusted.records.size(), 4U);
  for (const auto& r : trusted.records) EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
  EXPECT_EQ(trusted.summary["scenarios"][0]["resolved_config"]["tls"], true);
  auto untrusted_cfg = cfg;
  untrusted_cfg.ca_file.clear();
  untrusted_cfg.ready_timeout_s = 0;
  untrusted_cfg.out_dir = dir / "system";
  const auto untrusted = run(untrusted_cfg);
  ASSERT_EQ(untrusted.records.size(), 4U);
  for (const auto& r : untrusted.records) {
    EXPECT_EQ(r.status_name, "tls_error");
    EXPECT_NE(r.rec.error.find("certificate verify failed"), std::string::npos) << r.rec.error;
  }
  auto insecure_cfg = untrusted_cfg;
  insecure_cfg.tls_insecure = true;
  insecure_cfg.ready_timeout_s = 5;
  insecure_cfg.out_dir = dir / "insecure";
  const auto insecure = run(insecure_cfg);
  ASSERT_EQ(insecure.records.size(), 4U);
  for (const auto& r : insecure.records) EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
}

TEST(OpenAiRunner, InterruptWritesPartialSummary) {
  const auto dir = temp_dir("oai-interrupt");
  const auto ds_path = write_dataset(dir, 8, 20, 40);
  FakeOpenAiServer server([](const FakeOpenAiRequest&) { return FakeOpenAiReply{}; });
  auto cfg = openai_config(server.port(), ds_path, dir / "out");
  cfg.concurrency = {4};
  cfg.duration_s = 30;
  std::atomic<bool> stop{false};
  std::thread sig([&stop] {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    stop.store(true);
  });
  live::LoadRunner runner(cfg, load_dataset(ds_path, ""));
  const auto res = runner.run(&stop);
  sig.join();
  EXPECT_TRUE(res.partial);
  ASSERT_FALSE(res.records.empty());
  for (const auto& r : res.records) EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
  const auto summary = read_summary(cfg.out_dir);
  EXPECT_EQ(summary["partial"], true);
  EXPECT_EQ(read_lines(cfg.out_dir / "requests.csv").size(), res.records.size() + 1);
}

}  // namespace
}  // namespace servetwin::testing
