#pragma once
// Shared helpers for the live tests: temp dirs, a small synthetic dataset, the in-process
// closed-loop simulation that the live measurements are compared with, and a twin on loopback.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
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
  auto path = dir / "dataset.jsonl";
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

// What the engine inside the twin saw of a live closed loop (its submit and finish times, in its
// own simulated clock, and the order it took requests in): replaying these removes the client and
// loopback latency from the comparison's inputs (it stays in the live measurements compared).
struct ServerTiming {
  std::vector<TimeNs> start_ns;                // per user: the engine's submit time of its first request
  std::vector<std::vector<TimeNs>> gaps_ns;    // per user, per follow-up: submit minus the previous finish
  std::vector<std::vector<std::int64_t>> rank; // per user, per request: position in the engine's submit order
};
inline ServerTiming server_timing(const std::vector<live::LiveRecord>& recs, int users,
                                  const std::map<std::string, std::pair<TimeNs, TimeNs>>& times,
                                  const std::vector<std::string>& order) {
  std::map<std::string, std::int64_t> rank_of;
  for (std::size_t i = 0; i < order.size(); ++i) rank_of[order[i]] = static_cast<std::int64_t>(i);
  struct Seen {
    TimeNs submit_ns, finish_ns;
    std::int64_t rank;
  };
  std::vector<std::vector<Seen>> per_user(static_cast<std::size_t>(users));
  for (const auto& r : recs) {
    const std::string id = std::to_string(r.rec.request_id);
    auto it = times.find(id);
    if (it == times.end()) continue;
    const auto rk = rank_of.find(id);
    per_user.at(static_cast<std::size_t>(r.rec.user_id))
        .push_back({it->second.first, it->second.second, rk == rank_of.end() ? -1 : rk->second});
  }
  ServerTiming st;
  for (auto& v : per_user) {
    std::sort(v.begin(), v.end(), [](const Seen& a, const Seen& b) { return a.submit_ns < b.submit_ns; });
    st.start_ns.push_back(v.empty() ? 0 : v.front().submit_ns);
    st.gaps_ns.emplace_back();
    st.rank.emplace_back();
    for (std::size_t i = 0; i < v.size(); ++i) {
      st.rank.back().push_back(v[i].rank);
      if (i > 0) st.gaps_ns.back().push_back(std::max<TimeNs>(0, v[i].submit_ns - v[i - 1].finish_ns));
    }
  }
  return st;
}

// The same closed loop as `servetwin load --concurrency users --requests total`, run in simulated
// time: each user walks the dataset in the runner's order, with lengths as the twin computes them.
// The engine-side timing of a live run (`timing`, from server_timing) is replayed: first submits, follow-up
// gaps, and, among requests submitted at the same instant, the twin's order (an engine that starts
// a step on the first arrival, such as TGIS, prefills whichever came first alone, so a tie broken
// differently gives a different batch and, at c=8, a different steady phase of the loop).
inline std::vector<RequestRecord> simulate_closed_loop(const live::SimFactory& factory, const Dataset& ds,
                                                       int users, std::int64_t total, std::uint64_t seed,
                                                       std::uint64_t twin_seed, const ServerTiming& timing) {
  struct Loop final : SimListener {
    std::vector<RequestRecord> done;
    std::map<std::uint64_t, std::int64_t> user_of;
    std::function<void(std::int64_t, TimeNs)> next;
    const ServerTiming* timing = nullptr;  // set before the first request
    std::vector<std::size_t> served;
    void on_request_done(const RequestRecord& r) override {
      done.push_back(r);
      const std::int64_t u = user_of[r.request_id];
      const auto k = served[static_cast<std::size_t>(u)]++;
      TimeNs gap = 0;
      if (k < timing->gaps_ns.at(static_cast<std::size_t>(u)).size()) {
        gap = timing->gaps_ns[static_cast<std::size_t>(u)][k];
      }
      next(u, r.finish_ns + gap);
    }
  } loop;
  loop.timing = &timing;
  loop.served.assign(static_cast<std::size_t>(users), 0);
  EventQueue q;
  auto sim = factory(q, &loop);
  // Each user's prompts as the runner draws them: predict's dataset source for this level.
  auto source = live::PromptSupply(ds).stage_source(seed, users);
  std::int64_t launched = 0;
  std::uint64_t next_id = 0;
  std::vector<std::size_t> sent(static_cast<std::size_t>(users), 0);
  auto submit = [&](std::int64_t u, TimeNs t) {
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
  // Requests due at one instant wait in `due` and go to the engine together, in the twin's order
  // (unknown ranks last, by user).
  std::map<TimeNs, std::vector<std::pair<std::int64_t, std::int64_t>>> due;  // t -> (rank, user)
  loop.next = [&](std::int64_t u, TimeNs t) {
    const auto k = sent[static_cast<std::size_t>(u)]++;
    std::int64_t rank = std::numeric_limits<std::int64_t>::max() / 2 + u;
    if (k < timing.rank.at(static_cast<std::size_t>(u)).size() && timing.rank[static_cast<std::size_t>(u)][k] >= 0) {
      rank = timing.rank[static_cast<std::size_t>(u)][k];
    }
    auto& at = due[t];
    at.emplace_back(rank, u);
    if (at.size() > 1) return;
    q.schedule(t, [&due, &submit, t] {
      auto batch = std::move(due[t]);
      due.erase(t);
      std::sort(batch.begin(), batch.end());
      for (const auto& [r, user] : batch) submit(user, t);
    }, EventPriority::kArrival);
  };
  for (int u = 0; u < users; ++u) {
    loop.next(u, timing.start_ns.at(static_cast<std::size_t>(u)));
  }
  while (q.step()) {
  }
  return loop.done;
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
  const auto timing = server_timing(r.res.records, users, twin.request_times(), twin.submit_order());
  for (const auto& rec : r.res.records) {
    EXPECT_EQ(rec.rec.status, RequestStatus::kOk) << rec.rec.error;
    r.live_recs.push_back(rec.rec);
  }
  r.sim_recs = simulate_closed_loop(factory, load_dataset(ds_path, ""), users, total, r.cfg.seed, o.seed, timing);
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
