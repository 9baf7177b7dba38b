#include "sim/validate/prefix_cache_carryover.hpp"

#include <algorithm>
#include <list>
#include <map>
#include <tuple>
#include <unordered_map>

namespace servetwin {
namespace {

using BlockKey = std::pair<std::int64_t, std::int64_t>;  // (prompt, block index)

// vLLM's free block queue and cached-block map, for the blocks of one server.
class ServerBlockQueue {
 public:
  explicit ServerBlockQueue(std::int64_t total) {
    for (std::int64_t b = 0; b < total; ++b) pos_[b] = queue_.insert(queue_.end(), b);
  }
  // Arrival: hit the prompt's cached leading blocks (at most `max_hit`), allocate up to `blocks`.
  std::vector<std::int64_t> allocate(std::int64_t prompt, std::int64_t max_hit, std::int64_t blocks,
                                     std::int64_t full_prompt_blocks) {
    std::vector<std::int64_t> held;
    for (std::int64_t i = 0; prompt >= 0 && i < max_hit; ++i) {
      const auto it = cached_.find({prompt, i});
      if (it == cached_.end()) break;
      take(it->second);
      held.push_back(it->second);
    }
    while (static_cast<std::int64_t>(held.size()) < blocks && !queue_.empty()) {
      const std::int64_t b = queue_.front();
      take(b);
      if (const auto h = hash_of_.find(b); h != hash_of_.end()) {  // eviction
        cached_.erase(h->second);
        hash_of_.erase(h);
      }
      held.push_back(b);
    }
    for (std::int64_t i = 0; prompt >= 0 && i < full_prompt_blocks && i < static_cast<std::int64_t>(held.size()); ++i) {
      if (hash_of_.count(held[static_cast<std::size_t>(i)]) != 0) continue;  // a hit: cached already
      hash_of_[held[static_cast<std::size_t>(i)]] = {prompt, i};
      cached_[{prompt, i}] = held[static_cast<std::size_t>(i)];
    }
    return held;
  }
  void release(const std::vector<std::int64_t>& held) {
    // Back to front (index loop: clang 14 cannot compile std::views::reverse with libstdc++ 12).
    for (std::size_t i = held.size(); i-- > 0;) pos_[held[i]] = queue_.insert(queue_.end(), held[i]);
  }
  // Prompts with cached leading blocks, ordered by where their first block sits in the queue.
  [[nodiscard]] std::vector<CarriedPrefix> survivors(std::int64_t block_size) const {
    std::map<std::int64_t, std::int64_t> rank;
    std::int64_t r = 0;
    for (const std::int64_t b : queue_) rank[b] = r++;
    std::vector<std::pair<std::int64_t, CarriedPrefix>> found;
    for (const auto& [key, block] : cached_) {
      if (key.second != 0) continue;
      std::int64_t n = 0;
      while (cached_.count({key.first, n}) != 0) ++n;
      const auto rk = rank.find(block);
      found.push_back({rk == rank.end() ? r : rk->second, {key.first, n * block_size}});
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first, a.second.prompt) < std::tie(b.first, b.second.prompt);
    });
    std::vector<CarriedPrefix> out;
    out.reserve(found.size());
    for (const auto& f : found) out.push_back(f.second);
    return out;
  }

 private:
  void take(std::int64_t b) {
    const auto it = pos_.find(b);
    if (it == pos_.end()) return;
    queue_.erase(it->second);
    pos_.erase(it);
  }
  std::list<std::int64_t> queue_;
  std::unordered_map<std::int64_t, std::list<std::int64_t>::iterator> pos_;
  std::map<BlockKey, std::int64_t> cached_;
  std::unordered_map<std::int64_t, BlockKey> hash_of_;
};

}  // namespace

std::vector<CarriedPrefix> prefix_cache_carryover(std::vector<PastRequest> earlier, std::int64_t total_blocks,
                                                  std::int64_t block_size) {
  if (total_blocks <= 0 || block_size <= 0 || earlier.empty()) return {};
  // Events in time order; at equal times a finish frees its blocks before an arrival takes blocks.
  struct Event {
    TimeNs t;
    int kind;  // 0 finish, 1 arrival
    std::size_t req;
  };
  std::vector<Event> events;
  for (std::size_t i = 0; i < earlier.size(); ++i) {
    events.push_back({earlier[i].arrival_ns, 1, i});
    events.push_back({std::max(earlier[i].finish_ns, earlier[i].arrival_ns), 0, i});
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return std::tie(a.t, a.kind, a.req) < std::tie(b.t, b.kind, b.req); });
  ServerBlockQueue queue(total_blocks);
  std::vector<std::vector<std::int64_t>> held(earlier.size());
  for (const Event& e : events) {
    const PastRequest& r = earlier[e.req];
    if (e.kind == 0) {
      queue.release(held[e.req]);
      held[e.req].clear();
      continue;
    }
    const std::int64_t blocks = (r.input_tokens + r.output_tokens + block_size - 1) / block_size;
    held[e.req] = queue.allocate(r.prompt, (r.input_tokens - 1) / block_size, blocks, r.input_tokens / block_size);
  }
  return queue.survivors(block_size);
}

}  // namespace servetwin
