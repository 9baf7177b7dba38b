#pragma once
// Shared helpers for the live tests: temp dirs, a small synthetic dataset, the in-process
// closed-loop simulation that the live measurements are compared with, and a twin on loopback.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "live/common/util.hpp"
#include "sim/workload/dataset.hpp"
#include "live/load/runner.hpp"
#include "live/twin/twin_server.hpp"
#include "sim/core/event_queue.hpp"
#include "sim/metrics/stage_metrics.hpp"
#include "tests/live/fake_engine.hpp"

namespace servetwin::testing {

// Every directory temp_dir made in this process, so main() can remove them once all tests passed
// (a ctest run spawns one process per test: without this each run left ~1000 directories behind).
inline std::vector<std::filesystem::path>& temp_dirs_made() {
  static std::vector<std::filesystem::path> dirs;
  return dirs;
}

inline std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("servetwin-live-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  // A retried test asks for the same folder again: list it once.
  auto& made = temp_dirs_made();
  if (std::find(made.begin(), made.end(), p) == made.end()) made.push_back(p);
  return p;
}

// Removes the directories when every test passed; keeps them, and says where, when one failed.
inline void clean_temp_dirs(bool all_passed) {
  for (const auto& d : temp_dirs_made()) {
    if (all_passed) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
    } else {
      std::cerr << "live_tests: kept " << d.string() << " for inspection\n";
    }
  }
  temp_dirs_made().clear();
}

// A v2 JSONL dataset with n prompts of varied length and exact (min == max) output lengths in
// [out_min, out_max]; lengths come from a fixed linear congruence so the file is reproducible.
inline std::filesystem::path write_dataset(const std::filesystem::path& dir, int n, int out_min, int out_max) {
  const auto path = dir / "dataset.jsonl";
  std::ofstream f(path);
  f << R"({"name": "servetwin-test", "version": "0"})" << '\n';
  std::uint32_t x = 12345;
  for (int i = 0; i < n; ++i) {
    x = x * 1103515245U + 12345U;
    const int words = 20 + static_cast<int>((x >> 8U) % 80U);
    x = x * 1103515245U + 12345U;
    const int out = out_min + static_cast<int>((x >> 8U) % static_cast<std::uint32_t>(out_max - out_min + 1));
    std::string q;
    for (int w = 0; w < words; ++w) q += "word" + std::to_string(w % 10) + " ";
    f << R"({"index": )" << i << R"(, "question": ")" << q << R"(", "system_prompt": "", "tok_input_length": )"
      << words << R"(, "tok_output_length": )" << out << "}\n";
  }
  return path;
}

inline live::SimFactory fake_factory(FakeEngineParams p = {}) {
  return [p](EventQueue& q, SimListener* l) -> std::unique_ptr<ServingSim> {
    return std::make_unique<FakeEngine>(q, l, p);
  };
}

// The same closed loop as `servetwin load --concurrency users --requests total`, run in simulated
// time: every user submits at t=0 and its next request the moment the previous one finishes;
// each user walks the dataset in the runner's order; lengths as the twin computes them.
inline std::vector<RequestRecord> simulate_closed_loop(const live::SimFactory& factory, const Dataset& ds,
                                                       int users, std::int64_t total, std::uint64_t seed,
                                                       std::uint64_t twin_seed,
                                                       const std::vector<TimeNs>& start_ns = {},
                                                       TimeNs turnaround_ns = 0,
                                                       const std::vector<std::vector<TimeNs>>& user_gaps_ns = {}) {
  struct Loop final : SimListener {
    std::vector<RequestRecord> done;
    std::map<std::uint64_t, std::int64_t> user_of;
    std::function<void(std::int64_t, TimeNs)> next;
    TimeNs turnaround_ns = 0;
    std::vector<std::vector<TimeNs>> gaps;
    std::vector<std::size_t> served;
    void on_request_done(const RequestRecord& r) override {
      done.push_back(r);
      const std::int64_t u = user_of[r.request_id];
      const auto k = served[static_cast<std::size_t>(u)]++;
      TimeNs gap = turnaround_ns;
      if (static_cast<std::size_t>(u) < gaps.size() && k < gaps[static_cast<std::size_t>(u)].size()) {
        gap = gaps[static_cast<std::size_t>(u)][k];
      }
      next(u, r.finish_ns + gap);
    }
  } loop;
  loop.turnaround_ns = turnaround_ns;
  loop.gaps = user_gaps_ns;
  loop.served.assign(static_cast<std::size_t>(users), 0);
  EventQueue q;
  auto sim = factory(q, &loop);
  // Each user's prompts as the runner draws them: predict's dataset source for this level.
  auto source = live::PromptSupply(ds).stage_source(seed, users);
  std::int64_t launched = 0;
  std::uint64_t next_id = 0;
  loop.next = [&](std::int64_t u, TimeNs t) {
    if (launched >= total) return;
    ++launched;
    const auto& e = ds.samples[static_cast<std::size_t>(source->next_for_user(u).sample_index)];
    RequestInput in;
    in.id = next_id++;
    in.user_id = u;
    in.input_tokens = live::approx_token_count(e.text);
    in.max_new_tokens = e.max_new_tokens;
    in.output_tokens = live::twin_output_tokens(twin_seed, e.text, e.min_new_tokens, e.max_new_tokens);
    in.min_new_tokens = in.output_tokens;
    loop.user_of[in.id] = u;
    sim->submit(in, t);
  };
  // Users start together at t=0, or at the given offsets (e.g. when the live runner's first
  // requests went out; a real-time start is spread over a few hundred microseconds, and an engine
  // that batches at step boundaries is sensitive to that).
  std::vector<int> by_start(static_cast<std::size_t>(users));
  for (int u = 0; u < users; ++u) by_start[static_cast<std::size_t>(u)] = u;
  auto start_of = [&](int u) { return start_ns.empty() ? TimeNs{0} : start_ns[static_cast<std::size_t>(u)]; };
  std::stable_sort(by_start.begin(), by_start.end(), [&](int a, int b) { return start_of(a) < start_of(b); });
  for (const int u : by_start) loop.next(u, start_of(u));
  while (q.step()) {
  }
  return loop.done;
}

// Each user's first send time in a live run, relative to the earliest one.
inline std::vector<TimeNs> user_start_offsets(const std::vector<live::LiveRecord>& recs, int users) {
  std::vector<TimeNs> first(static_cast<std::size_t>(users), -1);
  TimeNs t0 = -1;
  for (const auto& r : recs) {
    auto& f = first.at(static_cast<std::size_t>(r.rec.user_id));
    f = f < 0 ? r.rec.arrival_ns : std::min(f, r.rec.arrival_ns);
    t0 = t0 < 0 ? r.rec.arrival_ns : std::min(t0, r.rec.arrival_ns);
  }
  for (auto& f : first) f = f < 0 ? 0 : f - t0;
  return first;
}

// The client's turnaround in a live closed loop: median time from receiving a request's last
// message to sending the same user's next request. It matters for engines that start their next
// step the instant a request finishes: a request arriving a fraction of a millisecond later waits
// one step, in the real server as in the simulator, so the comparison must include it.
inline TimeNs median_turnaround_ns(std::vector<live::LiveRecord> recs) {
  std::sort(recs.begin(), recs.end(), [](const auto& a, const auto& b) {
    return std::tie(a.rec.user_id, a.rec.arrival_ns) < std::tie(b.rec.user_id, b.rec.arrival_ns);
  });
  std::vector<TimeNs> gaps;
  for (std::size_t i = 1; i < recs.size(); ++i) {
    if (recs[i].rec.user_id == recs[i - 1].rec.user_id) gaps.push_back(recs[i].rec.arrival_ns - recs[i - 1].rec.finish_ns);
  }
  if (gaps.empty()) return 0;
  std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
  return std::max<TimeNs>(0, gaps[gaps.size() / 2]);
}

// The same two quantities seen by the engine (the twin's submit and finish times): these are what
// the engine model reacts to, so replaying them removes the client/loopback latency from the
// comparison's inputs (it stays in the live measurements being compared).
struct ServerTiming {
  std::vector<TimeNs> start_ns;
  TimeNs turnaround_ns = 0;                   // median
  std::vector<std::vector<TimeNs>> gaps_ns;   // per user, per request: the engine-side turnaround
};
inline ServerTiming server_timing(const std::vector<live::LiveRecord>& recs, int users,
                                  const std::map<std::string, std::pair<TimeNs, TimeNs>>& times) {
  std::vector<std::vector<std::pair<TimeNs, TimeNs>>> per_user(static_cast<std::size_t>(users));
  for (const auto& r : recs) {
    auto it = times.find(std::to_string(r.rec.request_id));
    if (it != times.end()) per_user.at(static_cast<std::size_t>(r.rec.user_id)).push_back(it->second);
  }
  ServerTiming st;
  TimeNs t0 = -1;
  std::vector<TimeNs> gaps;
  for (auto& v : per_user) {
    std::sort(v.begin(), v.end());
    st.start_ns.push_back(v.empty() ? 0 : v.front().first);
    if (!v.empty()) t0 = t0 < 0 ? v.front().first : std::min(t0, v.front().first);
    st.gaps_ns.emplace_back();
    for (std::size_t i = 1; i < v.size(); ++i) {
      gaps.push_back(v[i].first - v[i - 1].second);
      st.gaps_ns.back().push_back(std::max<TimeNs>(0, gaps.back()));
    }
  }
  for (auto& s : st.start_ns) s -= std::max<TimeNs>(t0, 0);
  if (!gaps.empty()) {
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
    st.turnaround_ns = std::max<TimeNs>(0, gaps[gaps.size() / 2]);
  }
  return st;
}

inline StageMetrics metrics_of(const std::vector<RequestRecord>& recs) {
  TimeNs start = -1, end = 0;
  for (const auto& r : recs) {
    start = start < 0 ? r.arrival_ns : std::min(start, r.arrival_ns);
    end = std::max(end, r.finish_ns);
  }
  return compute_stage_metrics(recs, 0, start, end + 1);
}

inline live::LoadConfig base_config(int port, const std::filesystem::path& dataset, const std::filesystem::path& out) {
  live::LoadConfig c;
  c.target = "127.0.0.1:" + std::to_string(port);
  c.dataset_path = dataset.string();
  c.out_dir = out;
  c.timeout_s = 20;
  c.ready_timeout_s = 5;
  c.progress = false;
  c.seed = 7;
  return c;
}

inline std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(f, line)) out.push_back(line);
  return out;
}

// One real-time closed loop of the runner against a twin serving `factory`, and the same loop
// simulated in-process from the server's timing: the records of both and the relative errors of
// throughput, TTFT p50 and TPOT mean (live vs simulated). Checks that every request completed.
struct TwinVsSim {
  live::LoadConfig cfg;
  live::LoadResult res;
  std::vector<RequestRecord> live_recs, sim_recs;
  StageMetrics lm, sm;
  double e_thr = 0, e_ttft = 0, e_tpot = 0;
  [[nodiscard]] bool within(double tolerance) const {
    return e_thr < tolerance && e_ttft < tolerance && e_tpot < tolerance;
  }
};

inline TwinVsSim run_twin_vs_sim(const live::SimFactory& factory, std::uint64_t twin_seed, const std::string& tag,
                                 int users, std::int64_t total, int attempt) {
  TwinVsSim r;
  const auto dir = temp_dir(tag + std::to_string(users));
  const auto ds_path = write_dataset(dir, 64, 16, 32);
  live::TwinOptions o;
  o.seed = twin_seed;
  o.log_emissions = true;
  live::TwinServer twin(o, factory);
  const int port = twin.start();
  r.cfg = base_config(port, ds_path, dir / "out");
  r.cfg.concurrency = {users};
  r.cfg.requests = total;
  live::LoadRunner runner(r.cfg, load_dataset(ds_path, ""));
  r.res = runner.run(nullptr);
  EXPECT_FALSE(r.res.partial) << r.res.partial_reason;
  EXPECT_EQ(static_cast<std::int64_t>(r.res.records.size()), total);
  const auto timing = server_timing(r.res.records, users, twin.request_times());
  for (const auto& rec : r.res.records) {
    EXPECT_EQ(rec.rec.status, RequestStatus::kOk) << rec.rec.error;
    r.live_recs.push_back(rec.rec);
  }
  r.sim_recs = simulate_closed_loop(factory, load_dataset(ds_path, ""), users, total, r.cfg.seed, o.seed,
                                    timing.start_ns, timing.turnaround_ns, timing.gaps_ns);
  EXPECT_EQ(static_cast<std::int64_t>(r.sim_recs.size()), total);
  r.lm = metrics_of(r.live_recs);
  r.sm = metrics_of(r.sim_recs);
  const auto rel = [](double live, double sim) { return std::abs(live - sim) / sim; };
  r.e_thr = rel(r.lm.throughput_output_tok_s, r.sm.throughput_output_tok_s);
  r.e_ttft = rel(r.lm.ttft_ms.p50, r.sm.ttft_ms.p50);
  r.e_tpot = rel(r.lm.tpot_ms.mean, r.sm.tpot_ms.mean);
  std::cerr << "attempt " << attempt << " c=" << users << " throughput live/sim " << r.lm.throughput_output_tok_s
            << "/" << r.sm.throughput_output_tok_s << " ttft_p50 " << r.lm.ttft_ms.p50 << "/" << r.sm.ttft_ms.p50
            << " tpot_mean " << r.lm.tpot_ms.mean << "/" << r.sm.tpot_ms.mean << "\n";
  return r;
}

}  // namespace servetwin::testing
