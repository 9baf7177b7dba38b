// The TGI and TGIS batch planners alone, against a hand-built RouterState (router_state.hpp): what
// each admits, in what order, where a budget stops it, and that planning changes the state only
// through RouterCommit (../shared/reference/tgis_and_tgi_scheduling.md §1, §3).
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <typeinfo>
#include <vector>

#include "sim/engine/capacity_policy.hpp"
#include "sim/engine/paged_state.hpp"
#include "sim/engine/router_state.hpp"
#include "sim/engine/tgi_planner.hpp"
#include "sim/engine/tgis_planner.hpp"

namespace servetwin {
namespace {

struct Router {
  std::unique_ptr<CapacityPolicy> policy;
  RouterState state;
  RouterCommit commit{state};
  std::deque<SimRequest> reqs;  // stable addresses
  Router(const char* policy_name, double total) : policy(make_capacity_policy(policy_name)) {
    commit.configure("tokens", total, *policy);
  }
  SimRequest* add(std::uint64_t id, std::int64_t in, std::int64_t max_new, TimeNs arrival_ns = 0) {
    SimRequest& r = reqs.emplace_back();
    r.in.id = id;
    r.in.input_tokens = in;
    r.max_new_tokens = max_new;
    r.target_tokens = max_new;
    r.rec.arrival_ns = arrival_ns;
    commit.enqueue(&r);
    return &r;
  }
  // Runs a planned prefill step as the engine would: prompts computed, first token emitted.
  void finish_prefill(Step& step, TimeNs start_ns, TimeNs end_ns) {
    step.start_ns = start_ns;
    step.end_ns = end_ns;
    for (auto& item : step.items) {
      item.req->prompt_done += item.prefill_tokens;
      ++item.req->generated;
    }
    commit.prefill_done(step);
  }
};

std::vector<std::uint64_t> ids(const Step& step) {
  std::vector<std::uint64_t> out;
  for (const auto& i : step.items) out.push_back(i.req->in.id);
  return out;
}

std::vector<std::uint64_t> queued(const RouterState& state) {
  std::vector<std::uint64_t> out;
  for (const auto* r : state.waiting()) out.push_back(r->in.id);
  return out;
}

// --- TGI ---

TgiRules tgi_rules(std::int64_t prefill_tokens) {
  TgiRules rules;
  rules.max_batch_prefill_tokens = prefill_tokens;
  rules.max_waiting_tokens = 3;
  rules.waiting_served_ratio = 1.2;
  return rules;
}

TEST(RouterCapacity, NoEvictCountsReservationsAndProjectedPeakOnlyTheLimit) {
  Router rt("guaranteed_no_evict", 100);
  rt.add(1, 16, 49);  // reserves ceil16(16 + 49 - 1) = 64
  auto planner = make_tgi_planner(tgi_rules(4096));
  Step step;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, step));
  EXPECT_TRUE(rt.policy->may_start(rt.state, 36));
  EXPECT_FALSE(rt.policy->may_start(rt.state, 37));
  const auto peak = make_capacity_policy("projected_peak");
  EXPECT_TRUE(peak->may_start(rt.state, 100));  // the demand is the whole batch's peak already
  EXPECT_FALSE(peak->may_start(rt.state, 100.5));
}

TEST(TgiPlanner, AdmitsTheFifoPrefixWithinThePrefillBudget) {
  Router rt("guaranteed_no_evict", 1000);
  rt.add(1, 16, 8);
  rt.add(2, 20, 8);  // rounds up to 32 prompt tokens: 16 + 32 = 48
  rt.add(3, 8, 8);   // 48 + 16 > 48: stops here, although it is small
  auto planner = make_tgi_planner(tgi_rules(48));
  Step step;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, step));
  EXPECT_EQ(ids(step), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_TRUE(step.is_prefill_only);
  EXPECT_EQ(step.shape.prefill_tokens, 36);
  EXPECT_EQ(step.shape.lm_head_tokens, 2);  // logits at the last prompt token only
  EXPECT_EQ(queued(rt.state), (std::vector<std::uint64_t>{3}));
  // Reservations from the prefill on: ceil16(16 + 8 - 1) + ceil16(20 + 8 - 1) = 32 + 32.
  EXPECT_EQ(rt.state.kv_committed(), 64);
  EXPECT_EQ(rt.state.kv_free(), 936);
}

TEST(TgiPlanner, TokenBudgetBlocksTheHeadOfTheLine) {
  Router rt("guaranteed_no_evict", 100);
  rt.add(1, 16, 16);  // 16 + 16 = 32
  rt.add(2, 16, 64);  // 32 + 80 = 112 > 100
  rt.add(3, 1, 1);    // would fit, but TGI's queue is strict FIFO
  auto planner = make_tgi_planner(tgi_rules(4096));
  Step step;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, step));
  EXPECT_EQ(ids(step), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(queued(rt.state), (std::vector<std::uint64_t>{2, 3}));
}

TEST(TgiPlanner, NothingFitsLeavesTheStateUntouched) {
  Router rt("guaranteed_no_evict", 40);
  rt.add(1, 16, 32);  // 16 + 32 = 48 > 40
  auto planner = make_tgi_planner(tgi_rules(4096));
  Step step;
  EXPECT_FALSE(planner->plan(rt.state, rt.commit, step));
  EXPECT_TRUE(step.items.empty());
  EXPECT_EQ(queued(rt.state), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(rt.state.kv_committed(), 0);
}

TEST(TgiPlanner, AddOnPrefillNeedsBatchTimesRatioRequestsThenDecodes) {
  Router rt("guaranteed_no_evict", 1000);
  rt.add(1, 16, 8);
  rt.add(2, 16, 8);
  auto planner = make_tgi_planner(tgi_rules(16));  // one request per prefill
  Step first;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, first));
  rt.finish_prefill(first, 0, 10);
  // Batch of 1: floor(1 x 1.2) = 1 request is enough for an add-on prefill; the running batch stalls.
  Step addon;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, addon));
  EXPECT_TRUE(addon.is_prefill_only);
  EXPECT_EQ(ids(addon), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(rt.state.addon_prefills(), 1u);
  rt.finish_prefill(addon, 10, 20);
  // A decode step follows an add-on prefill whatever waits; both requests decode, in join order.
  rt.add(3, 16, 8);
  Step decode;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, decode));
  EXPECT_FALSE(decode.is_prefill_only);
  EXPECT_EQ(ids(decode), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(decode.shape.decode_kv_tokens, (16 + 1 + 1) * 2);
  rt.commit.decode_done();
  // Batch of 2: floor(2 x 1.2) = 2 requests needed, one waits: decode again, request 3 stays queued.
  Step again;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, again));
  EXPECT_EQ(ids(again), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(queued(rt.state), (std::vector<std::uint64_t>{3}));
}

TEST(TgiPlanner, FinishedRequestsFreeTheirReservation) {
  Router rt("guaranteed_no_evict", 1000);
  SimRequest* r = rt.add(1, 16, 1);
  auto planner = make_tgi_planner(tgi_rules(4096));
  Step step;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, step));
  EXPECT_EQ(rt.state.kv_committed(), 16);
  r->done = true;  // its one token came with the prefill
  rt.finish_prefill(step, 0, 10);
  EXPECT_TRUE(rt.state.running().empty());
  EXPECT_EQ(rt.state.kv_committed(), 0);
  rt.commit.close(*r);  // a later cancel handler call frees nothing twice
  EXPECT_EQ(rt.state.kv_committed(), 0);
}

TEST(TgiPlanner, RefusesAStateItWasNotWrittenFor) {
  PagedState paged;
  PagedCommit commit(paged);
  auto planner = make_tgi_planner(tgi_rules(4096));
  Step step;
  EXPECT_THROW(planner->plan(paged, commit, step), std::bad_cast);
}

// --- TGIS ---

TgisRules tgis_e1_flash(double limit, std::int64_t max_batch_size) {
  TgisRules rules;
  rules.weights.e1 = true;
  rules.weights.limit = limit;
  rules.max_batch_size = max_batch_size;
  rules.prefill_limit = 0;  // none
  return rules;
}

TEST(TgisPlanner, SkipsACandidateWhoseProjectedPeakExceedsTheLimit) {
  Router rt("projected_peak", 100);
  rt.add(1, 30, 30);  // peak 60
  rt.add(2, 30, 30);  // with 1: 60 + 60 = 120 > 100, skipped
  rt.add(3, 10, 10);  // with 1: 60 + 20 = 80
  auto planner = make_tgis_planner(tgis_e1_flash(100, 12));
  Step step;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, step));
  EXPECT_EQ(ids(step), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(queued(rt.state), (std::vector<std::uint64_t>{2}));
  EXPECT_EQ(rt.state.skipped_candidates(), 1u);
  EXPECT_EQ(rt.state.kv_committed(), 0);  // TGIS reserves nothing
  EXPECT_EQ(step.shape.lm_head_tokens, 40);  // logits for every prompt token
}

TEST(TgisPlanner, CandidatesArrivedPastTheCutoffAreNotConsidered) {
  Router rt("projected_peak", 100);
  rt.add(1, 30, 30, 0);
  rt.add(2, 30, 30, 0);                     // skipped: the cutoff is its arrival + 1 s
  rt.add(3, 10, 10, 1'000'000'001);         // arrived after the cutoff
  auto planner = make_tgis_planner(tgis_e1_flash(100, 12));
  Step step;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, step));
  EXPECT_EQ(ids(step), (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(queued(rt.state), (std::vector<std::uint64_t>{2, 3}));
}

TEST(TgisPlanner, ExactProjectionAdmitsWhatTheWorstCaseSumWouldNot) {
  Router rt("projected_peak", 100);
  rt.add(1, 10, 80);  // finishes last: peak 90 alone
  rt.add(2, 50, 5);   // sum of full lengths 90 + 55 = 145 > 100, but when 2 ends the batch holds
                      // 10 + 5 + 50 + 5 = 70; the peak stays 90
  auto planner = make_tgis_planner(tgis_e1_flash(100, 12));
  Step step;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, step));
  EXPECT_EQ(ids(step), (std::vector<std::uint64_t>{1, 2}));
}

TEST(TgisPlanner, MaxBatchSizeCapsThePrefillInFifoOrder) {
  Router rt("projected_peak", 1e6);
  for (std::uint64_t id = 1; id <= 4; ++id) rt.add(id, 8, 8);
  auto planner = make_tgis_planner(tgis_e1_flash(1e6, 2));
  Step step;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, step));
  EXPECT_EQ(ids(step), (std::vector<std::uint64_t>{1, 2}));
  rt.finish_prefill(step, 0, 10);
  // The batch is full: no add-on prefill, a decode step.
  Step decode;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, decode));
  EXPECT_FALSE(decode.is_prefill_only);
  EXPECT_EQ(ids(decode), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(queued(rt.state), (std::vector<std::uint64_t>{3, 4}));
}

TEST(TgisPlanner, E2WaitsHalfThePrefillBeforeAnAddOn) {
  Router rt("projected_peak", 1e12);
  rt.add(1, 8, 8);
  TgisRules rules = tgis_e1_flash(1e12, 12);
  rules.weights.e1 = false;  // E2: byte weights and the half-prefill delay
  auto planner = make_tgis_planner(rules);
  Step first;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, first));
  rt.finish_prefill(first, 0, 100);
  rt.add(2, 8, 8);
  rt.commit.set_now(150);  // not after 100 + 100 / 2: decode
  Step early;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, early));
  EXPECT_FALSE(early.is_prefill_only);
  rt.commit.decode_done();
  rt.commit.set_now(151);
  Step late;
  ASSERT_TRUE(planner->plan(rt.state, rt.commit, late));
  EXPECT_TRUE(late.is_prefill_only);
  EXPECT_EQ(ids(late), (std::vector<std::uint64_t>{2}));
}

TEST(TgisWeights, PaddedE1WeighsEverySequenceAtTheLongestSquared) {
  std::deque<SimRequest> reqs(2);
  reqs[0].prompt_done = 10;
  reqs[1].prompt_done = 30;
  std::vector<SimRequest*> running{&reqs[0], &reqs[1]};
  TgisWeights w;
  w.e1 = true;
  w.padded = true;
  EXPECT_EQ(w.current(running), 2.0 * 30 * 30);
  w.padded = false;
  EXPECT_EQ(w.current(running), 40.0);
}

}  // namespace
}  // namespace servetwin
