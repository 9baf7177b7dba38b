// Synthetic prompts that hit the requested token count on the server's tokenizer (issue 16 item 4):
// the plan from a server's counts (offset, one-token pieces, checked on samples), the first-response
// fallback, the check after the run, and whole runs against the OpenAI twin (POST /tokenize), the
// TGIS twin (Tokenize) and a server without /tokenize that adds a BOS (fake server).
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "live/load/openai_tokenize.hpp"
#include "live/load/prompt_supply.hpp"
#include "live/load/prompt_token_check.hpp"
#include "live/load/prompt_tokens.hpp"
#include "sim/workload/length_dist.hpp"
#include "tests/live/fake_openai_server.hpp"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

// A toy word tokenizer: `bos` tokens, then one token per space-led word, two for the words in
// `split` (a vocabulary that lacks them), and `per_word` for every word when set (a tokenizer on
// which none of the pieces is one token).
struct ToyTokenizer {
  std::int64_t bos = 1;
  std::set<std::string> split;
  std::int64_t per_word = 1;
  [[nodiscard]] std::int64_t count(const std::string& text) const {
    std::int64_t n = bos;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t next = std::min(text.find(' ', pos + 1), text.size());
      n += split.count(text.substr(pos, next - pos)) > 0 ? 2 : per_word;
      pos = next;
    }
    return n;
  }
};

// A transport that only counts tokens (the runner never sends through it here).
class CountingTransport final : public live::Transport {
 public:
  CountingTransport(ToyTokenizer tok, std::string error) : tok_(std::move(tok)), error_(std::move(error)) {}
  nlohmann::json wait_until_ready() override { return nlohmann::json::object(); }
  void start(int /*poll_threads*/) override {}
  void send(live::LiveRecord /*rec*/, std::int64_t /*user_slot*/, const PromptSample& /*entry*/) override {}
  void stop() override {}
  [[nodiscard]] const char* status_counts_key() const override { return "status_counts"; }
  [[nodiscard]] bool uses_tls() const override { return false; }
  live::ServerTokenCounts count_tokens(const std::vector<std::string>& texts) override {
    ++calls;
    live::ServerTokenCounts out{"toy tokenizer", {}, error_};
    if (error_.empty()) {
      for (const auto& t : texts) out.counts.push_back(tok_.count(t));
    }
    return out;
  }
  int calls = 0;

 private:
  ToyTokenizer tok_;
  std::string error_;
};

ResolvedWorkload synthetic_workload(const std::string& input, const std::string& output) {
  ResolvedWorkload w;
  w.lengths.emplace(parse_length_dist(input, "--input-tokens"), parse_length_dist(output, "--output-tokens"));
  return w;
}

TEST(PromptTokens, PlanFromPieceCountsFindsTheOffsetAndDropsSplitPieces) {
  const auto& pieces = live::synthetic_pieces();
  std::vector<std::int64_t> counts(pieces.size(), 2);  // BOS + one token
  counts[3] = 3;
  counts[10] = 4;
  std::string error;
  const live::PromptTokenPlan plan = live::plan_from_piece_counts(counts, error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(plan.method, "tokenize");
  EXPECT_EQ(plan.offset_tokens, 1);
  ASSERT_EQ(plan.piece_count(), pieces.size() - 2);
  for (std::size_t k = 0; k < plan.piece_count(); ++k) {
    EXPECT_NE(plan.piece(k), pieces[3]);
    EXPECT_NE(plan.piece(k), pieces[10]);
  }
  EXPECT_NE(plan.detail.find("26 of 28"), std::string::npos) << plan.detail;
  EXPECT_NE(plan.detail.find("'" + pieces[10] + "' = 3"), std::string::npos) << plan.detail;
  EXPECT_EQ(plan.pieces_for(40), 39);
  EXPECT_EQ(plan.pieces_for(1), 0);
  EXPECT_EQ(plan.pieces_for(0), 0);
}

// A server on which every piece is one token and nothing is added (the twin): the plan draws from
// every piece, so its prompts are byte-identical to the default ones.
TEST(PromptTokens, AllPiecesOneTokenKeepsTheDefaultPrompts) {
  std::string error;
  const auto plan = live::plan_from_piece_counts(std::vector<std::int64_t>(live::synthetic_pieces().size(), 1), error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_EQ(plan.offset_tokens, 0);
  EXPECT_TRUE(plan.pieces.empty());
  EXPECT_EQ(live::synthetic_prompt_text(64, 42, 3, plan), live::synthetic_prompt_text(64, 42, 3));
}

TEST(PromptTokens, CountsThatCannotMakeAPlanAreErrors) {
  std::string error;
  live::plan_from_piece_counts({1, 1}, error);
  EXPECT_NE(error.find("2 counts for 28 pieces"), std::string::npos) << error;
  error.clear();
  std::vector<std::int64_t> counts(live::synthetic_pieces().size(), 1);
  counts[5] = 0;
  live::plan_from_piece_counts(counts, error);
  EXPECT_NE(error.find("counted 0 tokens"), std::string::npos) << error;
}

// Prompts built with the plan the toy server gives count exactly the requested length on that
// server, for plain synthetic prompts and for shared-prefix groups.
TEST(PromptTokens, CalibratedPromptsHitTheRequestedCountOnTheServersTokenizer) {
  const ToyTokenizer tok{1, {" her", " two"}, 1};
  const ToyTokenizer bos_only{1, {}, 1};
  CountingTransport t(tok, "");
  const live::PromptTokenPlan plan = live::calibrate_prompt_tokens(t, 7);
  EXPECT_EQ(t.calls, 2);  // the pieces alone, then the samples
  EXPECT_EQ(plan.method, "tokenize") << plan.detail;
  EXPECT_EQ(plan.offset_tokens, 1);
  EXPECT_EQ(plan.piece_count(), live::synthetic_pieces().size() - 2);
  EXPECT_NE(plan.detail.find("toy tokenizer: offset 1"), std::string::npos) << plan.detail;
  const live::PromptSupply supply(synthetic_workload("uniform:1,600", "8"));
  auto source = supply.stage_source(7, 2);
  for (std::uint64_t i = 0; i < 200; ++i) {
    const RequestShape s = source->next_open();
    const PromptSample p = supply.prompt(s, 7, i, plan);
    ASSERT_EQ(tok.count(p.text), s.input_tokens) << "request " << i;
    // Without a plan (the way prompts were built before), a server that adds a BOS and holds every
    // piece as one token counts one more.
    EXPECT_EQ(bos_only.count(supply.prompt(s, 7, i).text), s.input_tokens + 1) << "request " << i;
  }
  RequestShape grouped;
  grouped.input_tokens = 50;
  grouped.prefix_group = 2;
  grouped.shared_prefix_tokens = 30;
  const PromptSample a = supply.prompt(grouped, 7, 1, plan), b = supply.prompt(grouped, 7, 2, plan);
  EXPECT_EQ(tok.count(a.text), 50);
  EXPECT_EQ(a.text.substr(0, 30 * 4), b.text.substr(0, 30 * 4));  // the group's shared system prompt
  EXPECT_NE(a.text, b.text);
}

// The samples catch a tokenizer on which the pieces are not one token each; a server without the
// call leaves the plan "assumed" with the reason.
TEST(PromptTokens, UnverifiedOrMissingCountsFallBackToAssumed) {
  CountingTransport two_each(ToyTokenizer{1, {}, 2}, "");
  const auto plan = live::calibrate_prompt_tokens(two_each, 7);
  EXPECT_EQ(plan.method, "assumed");
  EXPECT_EQ(plan.offset_tokens, 0);
  EXPECT_NE(plan.detail.find("not used: a prompt of 7 pieces counted 15 tokens, expected 9"), std::string::npos)
      << plan.detail;
  CountingTransport none(ToyTokenizer{}, "HTTP 404: Not Found");
  const auto missing = live::calibrate_prompt_tokens(none, 7);
  EXPECT_EQ(none.calls, 1);
  EXPECT_EQ(missing.method, "assumed");
  EXPECT_EQ(missing.detail, "toy tokenizer: HTTP 404: Not Found");
}

TEST(PromptTokens, FirstResponseTeachesTheOffsetOnce) {
  live::PromptTokenPlan plan;
  plan.detail = "POST /tokenize: HTTP 404";
  EXPECT_FALSE(live::learn_offset_from_response(plan, -1, 41));  // a dataset prompt teaches nothing
  EXPECT_FALSE(live::learn_offset_from_response(plan, 40, 0));   // the server did not say
  EXPECT_TRUE(live::learn_offset_from_response(plan, 40, 41));
  EXPECT_EQ(plan.method, "first-response");
  EXPECT_EQ(plan.offset_tokens, 1);
  EXPECT_NE(plan.detail.find("POST /tokenize: HTTP 404; first response: a prompt of 40 pieces counted 41"),
            std::string::npos)
      << plan.detail;
  EXPECT_FALSE(live::learn_offset_from_response(plan, 39, 40));  // agrees
  EXPECT_TRUE(live::learn_offset_from_response(plan, 39, 45));    // learned once; a disagreement is noted
  EXPECT_EQ(plan.offset_tokens, 1);
  EXPECT_NE(plan.detail.find("later responses disagree: a prompt of 39 pieces counted 45 tokens (offset 6)"),
            std::string::npos)
      << plan.detail;
  EXPECT_FALSE(live::learn_offset_from_response(plan, 20, 30));  // noted once
  live::PromptTokenPlan other;
  EXPECT_TRUE(live::learn_offset_from_response(other, 40, 200));  // five tokens a piece: not an offset
  EXPECT_EQ(other.method, "assumed");
  EXPECT_EQ(other.offset_tokens, 0);
  EXPECT_NE(other.detail.find("not one token each"), std::string::npos) << other.detail;
  EXPECT_FALSE(live::learn_offset_from_response(other, 40, 200));  // noted once
  live::PromptTokenPlan asked;
  asked.method = "tokenize";
  EXPECT_FALSE(live::learn_offset_from_response(asked, 40, 45));  // the server's tokenizer was asked
}

live::LiveRecord record(int stage, std::int64_t id, std::int64_t requested, std::int64_t server, bool warmup = false) {
  live::LiveRecord r;
  r.rec.stage = stage;
  r.rec.request_id = static_cast<std::uint64_t>(id);
  r.requested_input_tokens = requested;
  r.rec.input_tokens = server;
  r.warmup = warmup;
  return r;
}

TEST(PromptTokenCheck, CountsMismatchesPerStage) {
  const std::vector<live::LiveRecord> recs{record(0, 0, 40, 41), record(0, 1, 40, 40), record(0, 2, 30, 0),
                                           record(0, 3, 20, 18),  record(1, 4, 40, 99), record(0, 5, 10, 50, true)};
  live::PromptTokenPlan plan;
  plan.method = "tokenize";
  plan.offset_tokens = 1;
  const auto j = live::prompt_token_check(recs, 0, &plan);
  EXPECT_EQ(j["method"], "tokenize");
  EXPECT_EQ(j["offset_tokens"], 1);
  EXPECT_EQ(j["requests_counted"], 3);
  EXPECT_EQ(j["requests_not_counted"], 1);
  EXPECT_EQ(j["requested_tokens"], 100);
  EXPECT_EQ(j["server_tokens"], 99);
  EXPECT_EQ(j["mismatches"], 2);
  EXPECT_EQ(j["max_abs_diff_tokens"], 2);
  EXPECT_NEAR(j["mean_diff_tokens"].get<double>(), -1.0 / 3.0, 1e-12);
  ASSERT_EQ(j["mismatch_examples"].size(), 2U);
  EXPECT_EQ(j["mismatch_examples"][0], nlohmann::json({{"request_id", 0}, {"requested", 40}, {"server", 41}}));
  const auto ds = live::prompt_token_check(recs, 1, nullptr);
  EXPECT_EQ(ds["method"], "dataset");
  EXPECT_FALSE(ds.contains("offset_tokens"));
  EXPECT_EQ(ds["mismatches"], 1);
}

TEST(PromptTokens, OpenAiTokenizeBodiesAndAnswers) {
  EXPECT_EQ(live::openai_tokenize_body("m", false, " the"), R"({"model":"m","prompt":" the"})");
  EXPECT_EQ(live::openai_tokenize_body("", true, " the"), R"({"messages":[{"role":"user","content":" the"}]})");
  std::int64_t n = 0;
  EXPECT_EQ(live::parse_openai_tokenize(R"({"count":3,"max_model_len":2048,"tokens":[0,5,9]})", n), "");
  EXPECT_EQ(n, 3);
  EXPECT_NE(live::parse_openai_tokenize(R"({"detail":"Not Found"})", n), "");
  const auto over_tls = live::openai_tokenize(live::HttpTarget{true, "127.0.0.1", "1"}, "", "", false, {" the"}, 1);
  EXPECT_NE(over_tls.error.find("https"), std::string::npos);
}

nlohmann::json summary_of(const std::filesystem::path& out) {
  std::ifstream f(out / "summary.json");
  return nlohmann::json::parse(f);
}

live::LoadConfig synthetic_config(const std::string& target, const std::filesystem::path& out) {
  live::LoadConfig c;
  c.target = target;
  c.dataset_path = "synthetic";
  c.out_dir = out;
  c.timeout_s = 20;
  c.ready_timeout_s = 5;
  c.progress = false;
  c.seed = 7;
  c.concurrency = {2};
  c.requests = 10;
  c.poll_threads = 1;
  return c;
}

// Every measured request's server count equals the drawn length; the stage's check says so.
void expect_exact(const live::LoadResult& res, const std::filesystem::path& out, const std::string& method,
                  std::int64_t offset) {
  ASSERT_FALSE(res.partial) << res.partial_reason;
  for (const auto& r : res.records) {
    EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
    EXPECT_EQ(r.rec.input_tokens, r.requested_input_tokens) << "request " << r.rec.request_id;
  }
  const auto s = summary_of(out)["scenarios"][0];
  EXPECT_EQ(s["resolved_config"]["prompt_tokens"]["method"], method) << s["resolved_config"]["prompt_tokens"];
  EXPECT_EQ(s["resolved_config"]["prompt_tokens"]["offset_tokens"], offset);
  const auto& check = s["stages"][0]["prompt_token_check"];
  EXPECT_EQ(check["method"], method);
  EXPECT_EQ(check["requests_counted"], static_cast<std::int64_t>(res.records.size()));
  EXPECT_EQ(check["mismatches"], 0) << check;
}

// The OpenAI twin answers POST /tokenize; the runner asks it and the usage counts match.
TEST(PromptTokensLive, OpenAiTwinIsAskedThroughTokenize) {
  const auto dir = temp_dir("ptok-openai");
  live::TwinOptions o;
  o.front_end = live::TwinFrontEnd::kOpenai;
  o.model_name = "m";
  live::TwinServer twin(o, fake_factory());
  const int port = twin.start();
  auto cfg = synthetic_config("http://127.0.0.1:" + std::to_string(port), dir / "out");
  cfg.protocol = live::Protocol::kOpenaiCompletions;
  live::LoadRunner runner(cfg, live::PromptSupply(synthetic_workload("uniform:20,200", "4")));
  expect_exact(runner.run(nullptr), cfg.out_dir, "tokenize", 0);
  const auto plan = summary_of(cfg.out_dir)["scenarios"][0]["resolved_config"]["prompt_tokens"];
  EXPECT_EQ(plan["pieces"].size(), live::synthetic_pieces().size());
  EXPECT_NE(plan["detail"].get<std::string>().find("POST /tokenize: offset 0"), std::string::npos) << plan;
}

// The gRPC TGIS twin answers Tokenize.
TEST(PromptTokensLive, TgisTwinIsAskedThroughTokenize) {
  const auto dir = temp_dir("ptok-tgis");
  live::TwinServer twin(live::TwinOptions{}, fake_factory());
  const int port = twin.start();
  auto cfg = synthetic_config("127.0.0.1:" + std::to_string(port), dir / "out");
  live::LoadRunner runner(cfg, live::PromptSupply(synthetic_workload("uniform:20,200", "4")));
  expect_exact(runner.run(nullptr), cfg.out_dir, "tokenize", 0);
  const auto detail = summary_of(cfg.out_dir)["scenarios"][0]["resolved_config"]["prompt_tokens"]["detail"];
  EXPECT_NE(detail.get<std::string>().find("TGIS fmaas.GenerationService/Tokenize"), std::string::npos) << detail;
}

// A server without /tokenize (HTTP 404) that adds a BOS: the first response teaches the offset. With
// one user, the warm-up request teaches it and every measured request is exact; without a warm-up,
// exactly the first measured request is one token over, and the check reports it.
TEST(PromptTokensLive, WithoutTokenizeTheFirstResponseTeachesTheOffset) {
  const auto dir = temp_dir("ptok-first");
  FakeOpenAiServer server([](const FakeOpenAiRequest& r) {
    FakeOpenAiReply reply;
    reply.prompt_token_offset = 1;
    if (r.target == "/tokenize") {
      reply.kind = FakeOpenAiReply::kStatus;
      reply.status = 404;
      reply.raw_body = R"({"detail":"Not Found"})";
    }
    return reply;
  });
  const std::string target = "http://127.0.0.1:" + std::to_string(server.port());
  auto cfg = synthetic_config(target, dir / "warm");
  cfg.protocol = live::Protocol::kOpenaiCompletions;
  cfg.concurrency = {1};
  cfg.requests = 5;
  cfg.warmup_requests = 1;
  const auto workload = synthetic_workload("uniform:20,200", "3");
  {
    live::LoadRunner runner(cfg, live::PromptSupply(workload));
    expect_exact(runner.run(nullptr), cfg.out_dir, "first-response", 1);
  }
  const auto detail = summary_of(cfg.out_dir)["scenarios"][0]["resolved_config"]["prompt_tokens"]["detail"];
  EXPECT_NE(detail.get<std::string>().find("POST /tokenize: HTTP 404"), std::string::npos) << detail;
  cfg.warmup_requests = 0;
  cfg.out_dir = dir / "cold";
  live::LoadRunner runner(cfg, live::PromptSupply(workload));
  const auto res = runner.run(nullptr);
  ASSERT_EQ(res.records.size(), 5U);
  const auto check = summary_of(cfg.out_dir)["scenarios"][0]["stages"][0]["prompt_token_check"];
  EXPECT_EQ(check["method"], "first-response");
  EXPECT_EQ(check["mismatches"], 1) << check;
  EXPECT_EQ(check["max_abs_diff_tokens"], 1);
  EXPECT_EQ(check["mismatch_examples"][0]["request_id"], 0);
}

}  // namespace
}  // namespace servetwin::testing
