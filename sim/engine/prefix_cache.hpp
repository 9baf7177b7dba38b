#pragma once
// Paged KV block pool with prefix caching, per ../shared/reference/vllm_scheduling.md §4:
//  - blocks of `block_size` tokens; a full block of a shared prompt prefix is identified by its
//    hash, modelled as the key (prefix_group, block index) because the simulator has no token ids:
//    two requests share a block exactly when they share the group's prefix up to that block;
//  - freed cached blocks stay hittable in an LRU free queue, count as free capacity and are evicted
//    lazily when a new block is needed (oldest first);
//  - blocks that are not part of a shared prefix are private: on free they go straight back to the
//    free pool (they would sit in the LRU too, but nothing can ever hit them again).
// The pool is engine-agnostic: vLLM uses it with caching on (V1) or off (V0).
#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

namespace servetwin {

class BlockPool {
 public:
  BlockPool() = default;
  BlockPool(std::int64_t num_blocks, std::int64_t block_size, bool caching)
      : total_(num_blocks), free_plain_(num_blocks), block_size_(block_size), caching_(caching) {}
  // vLLM V1's single free queue (vllm/v1/core/kv_cache_utils.py FreeKVCacheBlockQueue, 0.11.2): freed
  // private blocks join the same LRU as freed cached blocks, so a new block is the least recently freed
  // of either kind (never-used blocks first) and cached blocks are evicted as soon as they are oldest,
  // rather than after every private block has been reused (the default here, which keeps cached blocks
  // longer). Set by the engine setting prefix_cache_single_free_queue.
  void set_single_free_queue(bool single) { single_free_queue_ = single; }

  // What a request holds.
  struct Holding {
    std::vector<std::uint64_t> shared_keys;  // cached prefix blocks referenced, in order
    std::int64_t private_blocks = 0;
    [[nodiscard]] std::int64_t blocks() const {
      return static_cast<std::int64_t>(shared_keys.size()) + private_blocks;
    }
  };

  [[nodiscard]] std::int64_t total() const { return total_; }
  [[nodiscard]] std::int64_t block_size() const { return block_size_; }
  // Free capacity: never-used/private-freed blocks plus evictable cached blocks.
  [[nodiscard]] std::int64_t free() const { return free_plain_ + static_cast<std::int64_t>(lru_.size()); }
  [[nodiscard]] std::int64_t used() const { return total_ - free(); }
  [[nodiscard]] bool caching() const { return caching_; }

  // Number of leading full blocks of `group`'s prefix that are cached (hittable), limited to
  // `max_blocks`.
  [[nodiscard]] std::int64_t cached_prefix_blocks(std::int64_t group, std::int64_t max_blocks) const;
  // Free blocks that taking `n_hit` cached prefix blocks of `group` would consume (those sitting in
  // the LRU stop being free when referenced).
  [[nodiscard]] std::int64_t hit_cost(std::int64_t group, std::int64_t n_hit) const;
  // References the first n_hit cached blocks of `group` (caller checked cached_prefix_blocks).
  void take_hits(std::int64_t group, std::int64_t n_hit, Holding& h);
  // Grows `h` to `blocks_needed` blocks. New blocks with index < shareable_blocks of a group >= 0
  // are registered as cached prefix blocks. Caller checked free() >= blocks needed.
  // Inline early exit: most calls (decode steps inside a block) need no new block.
  void grow(Holding& h, std::int64_t blocks_needed, std::int64_t group, std::int64_t shareable_blocks) {
    if (h.blocks() < blocks_needed) grow_slow(h, blocks_needed, group, shareable_blocks);
  }
  // Releases everything `h` holds.
  void release(Holding& h);
  // Leaves the first `blocks` blocks of `group`'s prefix cached and free (most recently used), as a
  // request that computed them and finished would: blocks already cached are refreshed, missing ones
  // take free capacity (evicting the least recently freed), at most what the pool holds.
  void prime(std::int64_t group, std::int64_t blocks);

  [[nodiscard]] std::uint64_t evictions() const { return evictions_; }

 private:
  static std::uint64_t key(std::int64_t group, std::int64_t index) {
    return (static_cast<std::uint64_t>(group) << 24U) ^ static_cast<std::uint64_t>(index);
  }
  struct Entry {
    std::int64_t refs = 0;
    std::list<std::uint64_t>::iterator lru_pos;  // valid when refs == 0
  };
  void take_one_free();
  void grow_slow(Holding& h, std::int64_t blocks_needed, std::int64_t group, std::int64_t shareable_blocks);

  std::int64_t total_ = 0;
  std::int64_t free_plain_ = 0;
  std::int64_t block_size_ = 16;
  bool caching_ = false;
  std::unordered_map<std::uint64_t, Entry> cached_;
  std::list<std::uint64_t> lru_;  // front = least recently freed = evicted first
  std::uint64_t evictions_ = 0;
  bool single_free_queue_ = false;
  std::uint64_t next_private_key_ = kPrivateKeyBase;  // keys of freed private blocks in the LRU
  static constexpr std::uint64_t kPrivateKeyBase = std::uint64_t{1} << 63;  // above every key(group, index)
};

}  // namespace servetwin
