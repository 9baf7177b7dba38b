#include "sim/engine/prefix_cache.hpp"

#include <stdexcept>

namespace servetwin {

std::int64_t BlockPool::cached_prefix_blocks(std::int64_t group, std::int64_t max_blocks) const {
  if (!caching_ || group < 0) return 0;
  std::int64_t n = 0;
  while (n < max_blocks && cached_.count(key(group, n)) != 0) ++n;
  return n;
}

std::int64_t BlockPool::hit_cost(std::int64_t group, std::int64_t n_hit) const {
  std::int64_t c = 0;
  for (std::int64_t i = 0; i < n_hit; ++i) {
    if (cached_.at(key(group, i)).refs == 0) ++c;
  }
  return c;
}

void BlockPool::take_hits(std::int64_t group, std::int64_t n_hit, Holding& h) {
  for (std::int64_t i = 0; i < n_hit; ++i) {
    const std::uint64_t k = key(group, i);
    Entry& e = cached_.at(k);
    if (e.refs == 0) lru_.erase(e.lru_pos);
    ++e.refs;
    h.shared_keys.push_back(k);
  }
}

void BlockPool::take_one_free() {
  if (free_plain_ > 0) {
    --free_plain_;
    return;
  }
  if (lru_.empty()) throw std::logic_error("BlockPool: no free block (engine allocated beyond capacity)");
  // Lazy eviction of the least recently freed cached block.
  cached_.erase(lru_.front());
  lru_.pop_front();
  ++evictions_;
}

void BlockPool::grow_slow(Holding& h, std::int64_t blocks_needed, std::int64_t group, std::int64_t shareable_blocks) {
  while (h.blocks() < blocks_needed) {
    const std::int64_t index = h.blocks();
    take_one_free();
    // Only a holding that so far consists of shared blocks can extend the shared chain: block i's
    // hash includes all earlier blocks.
    const bool chain = static_cast<std::int64_t>(h.shared_keys.size()) == index;
    if (caching_ && group >= 0 && index < shareable_blocks && chain && cached_.count(key(group, index)) == 0) {
      Entry e;
      e.refs = 1;
      cached_.emplace(key(group, index), e);
      h.shared_keys.push_back(key(group, index));
    } else {
      ++h.private_blocks;
    }
  }
}

void BlockPool::release(Holding& h) {
  // Tail-first, as vLLM frees: the deepest prefix blocks become the first eviction candidates.
  for (auto it = h.shared_keys.rbegin(); it != h.shared_keys.rend(); ++it) {
    Entry& e = cached_.at(*it);
    if (--e.refs == 0) e.lru_pos = lru_.insert(lru_.end(), *it);
  }
  free_plain_ += h.private_blocks;
  h = Holding{};
}

}  // namespace servetwin
