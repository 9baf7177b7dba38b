// `calibrate engine`: recovers engine overheads injected into a synthetic continuous-batching run,
// written and read back through the per-request CSV format (sim/metrics/request_record.hpp).
// Threshold: issue 7 asks the fit to recover injected overheads within 10%. The end-to-end version
// against the twin server is tests/calibrate/engine_live_twin.sh; this test uses a generator with the
// same scheduling rules (admit all waiting requests in one prefill step, one token per running
// request per decode step) and the simulator's step cost (sim/cost/cost_model.cpp: per step, per
// sequence in the step, prefill steps included, and per prompt token).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>

#include "calibrate/engine/engine_fit.hpp"
#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {
namespace {

struct Injected {
  double per_request_ns = 4e6, step_ns = 1.5e6, per_seq_step_ns = 60e3, prefill_ns_per_token = 2000;
};

std::vector<RequestRecord> synthetic_run(const Injected& inj, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> in_tok(50, 1000), out_tok(2, 200);
  std::exponential_distribution<double> gap(1.0 / 40e6);  // loaded stage: one request per 40 ms
  std::vector<RequestRecord> reqs;
  double t = 0;
  for (int i = 0; i < 230; ++i) {
    RequestRecord r;
    r.request_id = static_cast<std::uint64_t>(i);
    r.stage = i < 30 ? 0 : 1;
    r.input_tokens = in_tok(rng);
    r.output_tokens = out_tok(rng);
    t += i < 30 ? 2e9 : gap(rng);  // stage 0: one request at a time (engine idle on arrival)
    r.arrival_ns = static_cast<TimeNs>(t);
    r.status = RequestStatus::kOk;
    reqs.push_back(r);
  }
  struct Running {
    std::size_t idx;
    std::int64_t left;
  };
  std::vector<Running> running;
  std::size_t next = 0;  // next request not yet admitted (requests are ready in arrival order)
  double now = 0;
  auto ready_at = [&](std::size_t i) { return static_cast<double>(reqs[i].arrival_ns) + inj.per_request_ns; };
  while (next < reqs.size() || !running.empty()) {
    if (next < reqs.size() && ready_at(next) <= now) {
      double tokens = 0;
      std::vector<std::size_t> admitted;
      while (next < reqs.size() && ready_at(next) <= now) admitted.push_back(next), tokens += static_cast<double>(reqs[next].input_tokens), ++next;
      now += inj.step_ns + inj.per_seq_step_ns * static_cast<double>(admitted.size()) + inj.prefill_ns_per_token * tokens;
      for (auto i : admitted) {
        reqs[i].ack_ns = reqs[i].first_token_ns = static_cast<TimeNs>(now);
        running.push_back({i, reqs[i].output_tokens - 1});
      }
    } else if (!running.empty()) {
      now += inj.step_ns + inj.per_seq_step_ns * static_cast<double>(running.size());
      std::vector<Running> keep;
      for (auto& r : running) {
        if (--r.left == 0) reqs[r.idx].finish_ns = static_cast<TimeNs>(now);
        else keep.push_back(r);
      }
      running = keep;
    } else {
      now = ready_at(next);
    }
  }
  return reqs;
}

TEST(EngineFit, RecoversInjectedOverheadsThroughCsv) {
  const Injected inj;
  const auto dir = std::filesystem::temp_directory_path() / "servetwin_engine_fit_test";
  std::filesystem::create_directories(dir);
  const auto csv = dir / "requests.csv";
  {
    std::ofstream out(csv);
    out << request_csv_header() << "\n";
    for (const auto& r : synthetic_run(inj, 7)) out << request_csv_line(r) << "\n";
  }
  const EngineFit f = fit_engine(read_request_csv(csv));
  auto err = [](double got, double want) { return std::abs(got - want) / want; };
  std::printf("engine fit: per_request %.0f ns (injected %.0f, err %.1f%%), step %.0f ns (%.0f, %.1f%%), per_seq_step "
              "%.0f ns (%.0f, %.1f%%), prefill %.1f ns/token (%.0f, %.1f%%); %zu requests, %zu idle arrivals\n",
              f.per_request_ns, inj.per_request_ns, 100 * err(f.per_request_ns, inj.per_request_ns), f.step_ns,
              inj.step_ns, 100 * err(f.step_ns, inj.step_ns), f.per_seq_step_ns, inj.per_seq_step_ns,
              100 * err(f.per_seq_step_ns, inj.per_seq_step_ns), f.prefill_ns_per_token, inj.prefill_ns_per_token,
              100 * err(f.prefill_ns_per_token, inj.prefill_ns_per_token), f.requests_used, f.idle_arrivals);
  EXPECT_LE(err(f.per_request_ns, inj.per_request_ns), 0.10);
  EXPECT_LE(err(f.step_ns, inj.step_ns), 0.10);
  EXPECT_LE(err(f.per_seq_step_ns, inj.per_seq_step_ns), 0.10);
  EXPECT_LE(err(f.prefill_ns_per_token, inj.prefill_ns_per_token), 0.10);
  std::filesystem::remove_all(dir);
}

TEST(EngineFit, RejectsWrongHeaderAndTooFewRequests) {
  const auto dir = std::filesystem::temp_directory_path() / "servetwin_engine_fit_bad";
  std::filesystem::create_directories(dir);
  const auto csv = dir / "bad.csv";
  std::ofstream(csv) << "request_id,arrival\n1,2\n";
  EXPECT_THROW(read_request_csv(csv), ConfigError);
  EXPECT_THROW(fit_engine({}), ConfigError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace servetwin::calibrate
