#include "sim/validate/live_resimulate.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "sim/core/event_queue.hpp"
#include "sim/engine/serving_sim.hpp"

namespace servetwin {
namespace {

bool replayable(const RequestRecord& r) { return r.status == RequestStatus::kOk && r.arrival_ns >= 0; }

// Drives the engine: fixed-time submissions for open-loop requests, a per-user chain for closed loops.
class Replay final : public SimListener {
 public:
  Replay(int stage, std::vector<RequestRecord> requests, const ReplayOptions& options)
      : stage_(stage), until_ns_(options.keep_sending_until_ns), prompt_of_(options.prompt_of) {
    std::sort(requests.begin(), requests.end(), [](const RequestRecord& a, const RequestRecord& b) {
      return std::tie(a.user_id, a.arrival_ns, a.request_id) < std::tie(b.user_id, b.arrival_ns, b.request_id);
    });
    for (auto& r : requests) {
      if (r.user_id < 0) {
        open_.push_back(std::move(r));
      } else {
        users_[r.user_id].push_back(std::move(r));
      }
    }
    for (const auto& [user, seq] : users_) learn_pattern(user, seq);
  }

  void start(EventQueue& q, ServingSim& sim) {
    q_ = &q;
    sim_ = &sim;
    for (const auto& r : open_) {
      if (replayable(r)) submit(r, r.arrival_ns, prompt_of(r.request_id));
    }
    for (auto& [user, seq] : users_) {
      next_[user] = 0;
      send_from(user, seq.front().arrival_ns, /*first=*/true);
    }
  }

  void on_request_done(const RequestRecord& r) override {
    RequestRecord rec = r;
    rec.stage = stage_;
    done_.push_back(rec);
    auto it = user_of_.find(r.request_id);
    if (it == user_of_.end()) return;
    const TimeNs end = std::max(r.finish_ns, q_->now());
    send_from(it->second, end, /*first=*/false);
  }

  std::vector<RequestRecord> take_records() { return std::move(done_); }

 private:
  // Sends the user's next replayable request. `t` is when the user's previous request ended in
  // the simulation (or, for the first request, its recorded send time).
  void send_from(std::int64_t user, TimeNs t, bool first) {
    const auto& seq = users_[user];
    std::size_t& k = next_[user];
    while (k < seq.size()) {
      const RequestRecord& cur = seq[k];
      if (!first) t += std::max<TimeNs>(0, cur.arrival_ns - seq[k - 1].finish_ns);  // client turnaround
      first = false;
      ++k;
      if (replayable(cur)) {
        user_of_[cur.request_id] = user;
        submit(cur, t, prompt_of(cur.request_id));
        return;
      }
      // Not replayed: the user waited for it as long as it took live.
      t += std::max<TimeNs>(0, cur.finish_ns - cur.arrival_ns);
    }
    extend(user, t);
  }

  // The user's replayable requests and median turnaround, repeated after the recorded ones.
  void learn_pattern(std::int64_t user, const std::vector<RequestRecord>& seq) {
    std::vector<TimeNs> gaps;
    for (std::size_t k = 0; k < seq.size(); ++k) {
      if (replayable(seq[k])) pattern_[user].push_back(seq[k]);
      if (k > 0 && seq[k - 1].finish_ns >= 0) gaps.push_back(std::max<TimeNs>(0, seq[k].arrival_ns - seq[k - 1].finish_ns));
    }
    if (gaps.empty()) return;
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
    turnaround_[user] = gaps[gaps.size() / 2];
  }

  // After the user's recorded requests: more of the same while the live window was open.
  void extend(std::int64_t user, TimeNs t) {
    const auto& pattern = pattern_[user];
    if (until_ns_ < 0 || pattern.empty()) return;
    t += turnaround_[user];
    if (t >= until_ns_) return;
    std::size_t& n = extended_[user];
    RequestRecord r = pattern[n % pattern.size()];
    ++n;
    const std::int64_t prompt = prompt_of(r.request_id);
    r.request_id = kReplayExtensionIdBase + next_extension_id_++;
    user_of_[r.request_id] = user;
    submit(r, t, prompt);
  }

  [[nodiscard]] std::int64_t prompt_of(std::uint64_t request_id) const {
    if (prompt_of_ == nullptr) return -1;
    const auto it = prompt_of_->find(request_id);
    return it == prompt_of_->end() ? -1 : it->second;
  }

  // `prompt` >= 0: the dataset prompt the request sent; the same prompt is the same prefix.
  void submit(const RequestRecord& r, TimeNs at, std::int64_t prompt) {
    RequestInput in;
    in.id = r.request_id;
    in.user_id = r.user_id;
    in.stage = stage_;
    in.input_tokens = r.input_tokens;
    in.output_tokens = std::max<std::int64_t>(1, r.output_tokens);
    in.max_new_tokens = in.output_tokens;
    in.min_new_tokens = in.output_tokens;
    if (prompt >= 0) {
      in.prefix_group = prompt;
      in.shared_prefix_tokens = in.input_tokens;
    }
    sim_->submit(in, std::max(at, q_->now()));
  }

  int stage_;
  TimeNs until_ns_;
  const PromptOfRequest* prompt_of_;
  EventQueue* q_ = nullptr;
  ServingSim* sim_ = nullptr;
  std::vector<RequestRecord> open_;
  std::map<std::int64_t, std::vector<RequestRecord>> users_;
  std::map<std::int64_t, std::size_t> next_;
  std::map<std::uint64_t, std::int64_t> user_of_;
  std::vector<RequestRecord> done_;
  std::map<std::int64_t, std::vector<RequestRecord>> pattern_;
  std::map<std::int64_t, TimeNs> turnaround_;
  std::map<std::int64_t, std::size_t> extended_;
  std::uint64_t next_extension_id_ = 0;
};

}  // namespace

LiveStageReplay resimulate_live_stage(const Catalog& catalog, const DeploymentConfig& deployment, int stage,
                                      std::vector<RequestRecord> requests, const ReplayOptions& options) {
  Replay replay(stage, std::move(requests), options);
  EventQueue q;
  auto sim = make_serving_sim(catalog, deployment, q, &replay);
  if (!options.earlier_requests.empty()) {
    // The KV geometry the engine model sized (paged engines report it; others have no prefix cache).
    const nlohmann::json stats = sim->stats();
    const nlohmann::json es = stats.value("engine_specific", nlohmann::json::object());
    if (es.contains("num_gpu_blocks") && es.contains("block_size") && es.contains("prefix_cache_hit_tokens")) {
      for (const auto& c : prefix_cache_carryover(options.earlier_requests, es["num_gpu_blocks"].get<std::int64_t>(),
                                                  es["block_size"].get<std::int64_t>()))
        sim->prime_prefix_cache(c.prompt, c.cached_tokens);
    }
  }
  replay.start(q, *sim);
  while (q.step()) {
  }
  LiveStageReplay out;
  out.records = replay.take_records();
  out.engine_stats = sim->stats();
  return out;
}

}  // namespace servetwin
