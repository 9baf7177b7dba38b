// Per-step expected state tables for the TGIS rules (../shared/reference/tgis_and_tgi_scheduling.md §1).
// A tiny synthetic model keeps every step the same cost, so each test reads as a table of what runs.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/sim/scheduler_table.hpp"
#include "sim/engine/tgis_engine.hpp"

namespace servetwin {
namespace {

struct Fixture {
  ModelSpec model;
  GpuSpec gpu;
  HardwareProfile profile;
  InterconnectSpec ic;
  EngineSpec preset;
  Fixture() {
    model.name = "tiny";
    model.num_layers = 2;
    model.hidden_size = 64;
    model.intermediate_size = 128;
    model.num_attention_heads = 4;
    model.num_kv_heads = 4;
    model.head_dim = 16;
    model.vocab_size = 100;
    model.max_position_embeddings = 512;
    gpu.name = "toy";
    gpu.memory_bytes = 80e9;
    gpu.mem_bw_bytes_s = 1e12;
    gpu.peak_fp16_flops = 1e14;
    for (Param* p : {&profile.gemm_eff_max, &profile.gemm_bw_eff, &profile.attn_prefill_flops_eff,
                     &profile.attn_decode_bw_eff, &profile.elementwise_bw_eff, &profile.copy_bw_eff}) {
      p->value = 1;
    }
    profile.gemm_m_half_tokens.value = 1;
    ic.name = "none";
    preset.name = "test";
    preset.engine = "tgis";
  }
};

struct StepRow {
  std::string kind;           // "prefill" or "decode"
  std::vector<std::uint64_t> ids;
};

class Recorder : public SimListener {
 public:
  void on_request_done(const RequestRecord& r) override { done.push_back(r); }
  std::vector<RequestRecord> done;
};

// Runs the engine on `requests` (arrival time, id, input, output) and returns the step table.
std::vector<StepRow> run(const std::map<std::string, std::string>& settings,
                         const std::vector<std::tuple<TimeNs, std::uint64_t, std::int64_t, std::int64_t>>& requests,
                         Recorder& rec, std::int64_t max_steps = 100) {
  Fixture f;
  EventQueue q;
  EngineSettings s(f.preset, settings);
  EngineCostParams cpu;
  cpu.cpu_step_ns = 1e6;  // every step costs ~1 ms, dominated by this fixed cost
  CostModel cost(f.model, f.gpu, f.profile, f.ic, 1, "fp16", cpu);
  TgisEngine engine(q, &rec, cost, f.model, f.gpu, s);
  s.finish();
  std::vector<StepRow> table;
  engine.set_step_observer([&](const Step& st) {
    StepRow row{st.is_prefill_only ? "prefill" : "decode", {}};
    for (const auto& item : st.items) row.ids.push_back(item.req->in.id);
    table.push_back(row);
  });
  for (const auto& [t, id, in, out] : requests) {
    engine.submit(testing_tables::fixed_request(id, in, out), t);
  }
  while (static_cast<std::int64_t>(table.size()) < max_steps && q.step()) {
  }
  return table;
}

std::string show(const std::vector<StepRow>& t) {
  std::string s;
  for (const auto& r : t) {
    s += r.kind + "{";
    for (auto id : r.ids) s += std::to_string(id) + " ";
    s += "} ";
  }
  return s;
}

const std::map<std::string, std::string> kE1{{"era", "E1"}, {"max_sequence_length", "512"}, {"max_new_tokens", "100"}};

TEST(TgisScheduler, PrefillRunsAloneThenAddOnPrefillStallsDecode) {
  Recorder rec;
  auto settings = kE1;
  settings["max_batch_size"] = "3";
  // A arrives alone; B and C while A's prefill runs; the add-on check before A's first decode admits both.
  const auto t = run(settings, {{0, 1, 10, 3}, {100, 2, 10, 3}, {200, 3, 10, 3}}, rec);
  const std::vector<std::pair<std::string, std::vector<std::uint64_t>>> expected = {
      {"prefill", {1}},        // idle: prefill A alone (it emits A's first token)
      {"prefill", {2, 3}},     // batch size 1 -> min_size 1: B and C prefilled together, A stalls
      {"decode", {1, 2, 3}},   // decode of the concatenated batch follows the add-on without a new check
      {"decode", {1, 2, 3}},   // each request has 3 tokens: 1 from prefill + 2 decodes
  };
  ASSERT_EQ(t.size(), expected.size()) << show(t);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(t[i].kind, expected[i].first) << "step " << i << ": " << show(t);
    EXPECT_EQ(t[i].ids, expected[i].second) << "step " << i << ": " << show(t);
  }
  ASSERT_EQ(rec.done.size(), 3U);
  for (const auto& r : rec.done) EXPECT_EQ(r.output_tokens, 3);
}

TEST(TgisScheduler, MaxBatchSizeCapsTheBatchAndTheRestWaits) {
  Recorder rec;
  auto settings = kE1;
  settings["max_batch_size"] = "2";
  const auto t = run(settings, {{0, 1, 10, 4}, {0, 2, 10, 4}, {0, 3, 10, 4}}, rec);
  ASSERT_GE(t.size(), 2U) << show(t);
  // All three arrive at t=0, but A's arrival starts the idle prefill before B and C are seen.
  EXPECT_EQ(t[0].ids, (std::vector<std::uint64_t>{1})) << show(t);
  EXPECT_EQ(t[1].ids, (std::vector<std::uint64_t>{2})) << "only one slot left: " << show(t);
  for (const auto& row : t) EXPECT_LE(row.ids.size(), 2U) << show(t);
  // C runs only after A and B finish.
  bool c_seen = false;
  for (const auto& row : t) {
    if (std::find(row.ids.begin(), row.ids.end(), 3U) != row.ids.end()) {
      c_seen = true;
      EXPECT_EQ(row.ids.size(), 1U) << show(t);
    }
  }
  EXPECT_TRUE(c_seen) << show(t);
}

TEST(TgisScheduler, MinSizeFallsOverWaitingTokens) {
  // Batch of 2 running; one request waits. With MAX_WAITING_TOKENS=4 the add-on needs
  // min_size = floor(2 * (4 - w) / 4): 1 after one decode (w=2 -> 1) ... so it joins at the first check
  // where min_size <= 1. Before that, min_size = 2 > queue length 1 and decode continues.
  Recorder rec;
  auto settings = kE1;
  settings["max_batch_size"] = "4";
  settings["max_waiting_tokens"] = "4";
  const auto t = run(settings, {{0, 1, 10, 20}, {100, 2, 10, 20}, {3'500'000, 3, 10, 20}}, rec, 12);
  // step 0: prefill {1}; step 1: add-on prefill {2} (bs=1 -> min 1); w reset to 1.
  ASSERT_GE(t.size(), 6U);
  EXPECT_EQ(t[0].ids, (std::vector<std::uint64_t>{1})) << show(t);
  EXPECT_EQ(t[1].ids, (std::vector<std::uint64_t>{2})) << show(t);
  EXPECT_EQ(t[2].kind, "decode") << show(t);
  // Request 3 arrives at 3.5 ms. w=1 -> min_size 2*(3)/4 = 1 (floor 1.5) -> admitted at the next check.
  std::size_t addon_step = 0;
  for (std::size_t i = 3; i < t.size(); ++i) {
    if (t[i].kind == "prefill") {
      addon_step = i;
      break;
    }
  }
  ASSERT_NE(addon_step, 0U) << show(t);
  EXPECT_EQ(t[addon_step].ids, (std::vector<std::uint64_t>{3})) << show(t);
  EXPECT_EQ(t[addon_step + 1].ids, (std::vector<std::uint64_t>{1, 2, 3})) << show(t);
}

TEST(TgisScheduler, OverConcurrencyLimitIsResourceExhausted) {
  Recorder rec;
  auto settings = kE1;
  settings["max_concurrent_requests"] = "2";
  run(settings, {{0, 1, 10, 5}, {0, 2, 10, 5}, {0, 3, 10, 5}}, rec);
  ASSERT_EQ(rec.done.size(), 3U);
  int rejected = 0;
  for (const auto& r : rec.done) {
    if (r.status == RequestStatus::kRejected) {
      ++rejected;
      EXPECT_EQ(r.request_id, 3U);
      EXPECT_NE(r.error.find("RESOURCE_EXHAUSTED"), std::string::npos);
    }
  }
  EXPECT_EQ(rejected, 1);
}

TEST(TgisScheduler, LengthValidationAndClamping) {
  Recorder rec;
  auto settings = kE1;
  settings["max_sequence_length"] = "64";
  settings["max_new_tokens"] = "63";
  // id 1: input 64 >= max_seq -> INVALID_ARGUMENT. id 2: 60 + 10 > 64 with min_new 10 -> rejected.
  // id 3: fine.
  run(settings, {{0, 1, 64, 5}, {0, 2, 60, 10}, {0, 3, 20, 5}}, rec);
  ASSERT_EQ(rec.done.size(), 3U);
  for (const auto& r : rec.done) {
    if (r.request_id == 3) {
      EXPECT_EQ(r.status, RequestStatus::kOk);
    } else {
      EXPECT_EQ(r.status, RequestStatus::kRejected) << r.request_id;
      EXPECT_NE(r.error.find("INVALID_ARGUMENT"), std::string::npos);
    }
  }
}

TEST(TgisScheduler, MemoryProjectionSkipsACandidateAndAdmitsASmallerOne) {
  // E1 flash with a batch-weight limit of 100 tokens: A (50+40) runs; B (40+30) does not fit next to
  // A's projected peak, C (5+5) does: FIFO with bounded skipping admits C ahead of B.
  Recorder rec;
  auto settings = kE1;
  settings["max_batch_size"] = "4";
  settings["max_batch_weight"] = "100";
  const auto t = run(settings, {{0, 1, 50, 40}, {100, 2, 40, 30}, {200, 3, 5, 5}}, rec, 3);
  ASSERT_EQ(t.size(), 3U) << show(t);
  EXPECT_EQ(t[0].ids, (std::vector<std::uint64_t>{1})) << show(t);
  EXPECT_EQ(t[1].ids, (std::vector<std::uint64_t>{3})) << "B skipped, C admitted: " << show(t);
}

TEST(TgisScheduler, BatchWeightNeverExceedsTheLimit) {
  // Many requests against a small E2 byte limit: the ledger throws if use ever exceeds capacity.
  Recorder rec;
  std::vector<std::tuple<TimeNs, std::uint64_t, std::int64_t, std::int64_t>> reqs;
  for (std::uint64_t i = 0; i < 40; ++i) reqs.emplace_back(static_cast<TimeNs>(i) * 50'000, i, 30 + (i % 7) * 20, 10 + (i % 5) * 9);
  std::map<std::string, std::string> e2{{"era", "E2"}, {"max_batch_size", "64"}, {"max_sequence_length", "512"},
                                        {"max_new_tokens", "100"}, {"cuda_context_bytes", "7.99978e10"}};
  EXPECT_NO_THROW(run(e2, reqs, rec, 100000));
  EXPECT_EQ(rec.done.size(), 40U);
}

}  // namespace
}  // namespace servetwin
