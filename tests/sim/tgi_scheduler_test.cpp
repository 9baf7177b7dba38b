// HF TGI 1.0 router rules (../shared/reference/tgis_and_tgi_scheduling.md §3) on a hand-computed
// scenario: per step, which requests run, who emits, and the free token budget
// (max_batch_total_tokens minus the running batch's full-length reservations) after planning.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_settings.hpp"
#include "tests/sim/scheduler_table.hpp"
#include "sim/engine/tgi_engine.hpp"

namespace servetwin {
namespace {

using testing_tables::Item;
using testing_tables::Recorder;
using testing_tables::Row;

struct Harness {
  Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  EventQueue q;
  Recorder rec;
  std::vector<Row> rows;
  std::unique_ptr<TgiEngine> engine;
  explicit Harness(std::map<std::string, std::string> overrides, const std::string& preset = "tgi-1.0") {
    const ModelSpec& model = catalog.model("meta-llama/Llama-2-7b-hf");
    const GpuSpec& gpu = catalog.gpu("H100-SXM");
    EngineSettings settings(catalog.engine(preset), overrides);
    CostModel cost(model, gpu, catalog.profile(gpu.name), catalog.interconnect("none"), 1, "fp16", EngineCostParams{});
    engine = std::make_unique<TgiEngine>(q, &rec, std::move(cost), model, gpu, settings);
    engine->observe_steps([this](const Step& s, std::int64_t free) {
      Row r;
      r.free = free;
      for (const auto& i : s.items) r.items.push_back({i.req->in.id, i.prefill_tokens, i.emits_token});
      rows.push_back(r);
    });
  }
  void submit(std::uint64_t id, std::int64_t in, std::int64_t out) {
    engine->submit(testing_tables::fixed_request(id, in, out), q.now());
  }
  void run() {
    while (q.step()) {
    }
  }
};

std::map<std::string, std::string> small() {
  return {{"max_batch_total_tokens", "96"}, {"max_input_length", "32"},     {"max_total_tokens", "64"},
          {"max_batch_prefill_tokens", "32"}, {"max_waiting_tokens", "3"}, {"max_concurrent_requests", "3"}};
}

TEST(TgiScheduler, RouterTable) {
  Harness h(small());
  h.submit(1, 10, 5);  // reserves ceil16(10 + 5 - 1) = 16 tokens
  h.submit(2, 20, 3);  // prefill budget: 16 + ceil16(20) = 48 > 32, so not with 1
  h.submit(3, 5, 2);
  h.run();
  const std::vector<Row> expected = {
      {{{1, 10, true}}, 80},                 // idle: FIFO prefix within 32 prefill tokens = [1]
      {{{2, 20, true}}, 48},                 // add-on: min_size floor(1 x 1.2) = 1; 3 blocked behind 2
      {{{1, 0, true}, {2, 0, true}}, 48},    // the merged batch decodes right after the add-on
      {{{1, 0, true}, {2, 0, true}}, 48},    // [3] < floor(2 x 1.2) = 2 and waiting_tokens 2 < 3: no add-on; 2 ends
      {{{3, 5, true}}, 64},                  // waiting_tokens 3 >= max_waiting_tokens: any size
      {{{1, 0, true}, {3, 0, true}}, 64},    // 3 ends
      {{{1, 0, true}}, 80},                  // 1's fifth token
  };
  EXPECT_EQ(h.rows, expected);
  EXPECT_EQ(h.rec.done.at(1).output_tokens, 5);
}

TEST(TgiScheduler, Tgi2WaitingServedRatioAddsSmallerBatches) {
  // The same limits and requests as RouterTable under the tgi-2 preset, whose waiting_served_ratio is 0.3
  // (TGI 2.x launcher default; 1.0 had 1.2): at step 4 the add-on needs floor(2 x 0.3) = 0 -> at least 1
  // waiting request instead of floor(2 x 1.2) = 2, so R3 is prefilled right away (reserving
  // ceil16(5 + 2 - 1) = 16 of the 48 free tokens) rather than after max_waiting_tokens decode steps.
  Harness h(small(), "tgi-2");
  h.submit(1, 10, 5);
  h.submit(2, 20, 3);
  h.submit(3, 5, 2);
  h.run();
  const std::vector<Row> expected = {
      {{{1, 10, true}}, 80},                              // idle: [1] within 32 prefill tokens
      {{{2, 20, true}}, 48},                              // add-on: [2]; 3 blocked behind it (16 + 32 > 32)
      {{{1, 0, true}, {2, 0, true}}, 48},                 // decode after the add-on
      {{{3, 5, true}}, 32},                               // add-on with min_size 1: R3 fits (16 + 16 <= 48)
      {{{1, 0, true}, {2, 0, true}, {3, 0, true}}, 32},   // 2 and 3 end
      {{{1, 0, true}}, 80},
      {{{1, 0, true}}, 80},                               // 1's fifth token
  };
  EXPECT_EQ(h.rows, expected);
}

TEST(TgiScheduler, Rejections) {
  Harness h(small());
  h.submit(1, 10, 5);
  h.submit(2, 33, 5);   // input > max_input_length: 422
  h.submit(3, 30, 40);  // input + max_new > max_total_tokens: 422, not clamped
  h.submit(4, 10, 5);
  h.submit(5, 10, 5);
  h.submit(6, 10, 5);   // the 4th concurrent request: 429
  h.run();
  EXPECT_EQ(h.rec.done.at(2).status, RequestStatus::kRejected);
  EXPECT_NE(h.rec.done.at(2).error.find("422"), std::string::npos);
  EXPECT_NE(h.rec.done.at(3).error.find("422"), std::string::npos);
  EXPECT_EQ(h.rec.done.at(6).status, RequestStatus::kRejected);
  EXPECT_NE(h.rec.done.at(6).error.find("429"), std::string::npos);
  EXPECT_EQ(h.rec.done.at(5).status, RequestStatus::kOk);
}

}  // namespace
}  // namespace servetwin
