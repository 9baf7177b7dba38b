#include "sim/engine/prefix_cache.hpp"

#include <algorithm>
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
  // Lazy eviction of the least recently freed cached block (or reuse of a freed private one).
  const std::uint64_t k = lru_.front();
  lru_.pop_front();
  if (k >= kPrivateKeyBase) return;
  cached_.erase(k);
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

void BlockPool::prime(std::int64_t group, std::int64_t blocks) {
  if (!caching_ || group < 0 || blocks <= 0) return;
  Holding h;
  take_hits(group, cached_prefix_blocks(group, blocks), h);
  grow(h, std::min(blocks, h.blocks() + free()), group, blocks);
  release(h);
}

void BlockPool::release(Holding& h) {
  if (single_free_queue_) {
    // A holding's private blocks follow its shared prefix, so tail-first they are freed first: they
    // queue ahead of its cached blocks (nothing can hit them; taking one is no eviction).
    for (std::int64_t i = 0; i < h.private_blocks; ++i) lru_.push_back(next_private_key_++);
  } else {
    free_plain_ += h.private_blocks;
  }
  // Tail-first, as vLLM frees: the deepest prefix blocks become the first eviction candidates.
  // An index loop: clang 14 (the sanitizer and fuzz builds) cannot compile libstdc++ 12's
  // std::views::reverse.
  for (std::size_t i = h.shared_keys.size(); i-- > 0;) {
    const std::uint64_t key = h.shared_keys[i];
    Entry& e = cached_.at(key);
    if (--e.refs == 0) e.lru_pos = lru_.insert(lru_.end(), key);
  }
  h = Holding{};
}

}  // namespace servetwin
