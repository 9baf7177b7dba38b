#pragma once
// Shared helpers for the live tests: temp dirs, a small synthetic dataset, the in-process
// closed-loop simulation that the live measurements are compared with, and a twin on loopback.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "live/common/util.hpp"
#include "live/load/dataset.hpp"
#include "live/load/runner.hpp"
#include "live/twin/twin_server.hpp"
#include "sim/core/event_queue.hpp"
#include "sim/metrics/stage_metrics.hpp"
#include "tests/live/fake_engine.hpp"

namespace servetwin::testing {

inline std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("servetwin-live-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
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
inline std::vector<RequestRecord> simulate_closed_loop(const live::SimFactory& factory, const live::Dataset& ds,
                                                       int users, std::int64_t total, std::uint64_t seed,
                                                       std::uint64_t twin_seed) {
  struct Loop final : SimListener {
    std::vector<RequestRecord> done;
    std::map<std::uint64_t, std::int64_t> user_of;
    std::function<void(std::int64_t, TimeNs)> next;
    void on_request_done(const RequestRecord& r) override {
      done.push_back(r);
      next(user_of[r.request_id], r.finish_ns);
    }
  } loop;
  EventQueue q;
  auto sim = factory(q, &loop);
  std::vector<std::vector<std::size_t>> order;
  std::vector<std::size_t> cursor(static_cast<std::size_t>(users), 0);
  for (int u = 0; u < users; ++u) order.push_back(live::dataset_order(ds.entries.size(), seed, static_cast<std::uint64_t>(u)));
  std::int64_t launched = 0;
  std::uint64_t next_id = 0;
  loop.next = [&](std::int64_t u, TimeNs t) {
    if (launched >= total) return;
    ++launched;
    auto& c = cursor[static_cast<std::size_t>(u)];
    const auto& e = ds.entries[order[static_cast<std::size_t>(u)][c % ds.entries.size()]];
    ++c;
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
  for (int u = 0; u < users; ++u) loop.next(u, 0);
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

}  // namespace servetwin::testing
