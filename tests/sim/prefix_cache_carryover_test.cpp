// A live server's prefix cache across load stages (issue 15, closed-B): BlockPool's vLLM-V1 single free
// queue, priming a pool with prefixes computed earlier, and prefix_cache_carryover (which prompts a vLLM
// server still holds when a stage begins), on small hand-checked cases.
#include <gtest/gtest.h>

#include <vector>

#include "sim/engine/prefix_cache.hpp"
#include "sim/validate/prefix_cache_carryover.hpp"

namespace servetwin {
namespace {

// Two blocks. A computes group 0's one-block prefix and finishes; D uses a private block and finishes;
// E needs one block. The default pool hands E the never-cached block and keeps group 0 cached; vLLM's
// single free queue hands E the least recently freed block, which is group 0's.
std::int64_t group0_cached_after_e(bool single_queue) {
  BlockPool pool(2, 4, true);
  pool.set_single_free_queue(single_queue);
  BlockPool::Holding a, d, e;
  pool.grow(a, 1, /*group=*/0, /*shareable_blocks=*/1);
  pool.release(a);
  pool.grow(d, 1, -1, 0);
  pool.release(d);
  EXPECT_EQ(pool.free(), 2);
  pool.grow(e, 1, -1, 0);
  return pool.cached_prefix_blocks(0, 1);
}

TEST(PrefixCacheCarryover, SingleFreeQueueEvictsTheOldestFreedBlock) {
  EXPECT_EQ(group0_cached_after_e(false), 1);
  EXPECT_EQ(group0_cached_after_e(true), 0);
}

TEST(PrefixCacheCarryover, SingleFreeQueueReusesFreedPrivateBlocksInOrder) {
  // A: group 1's 2-block prefix + 1 private block, freed tail-first: private, then prefix block 1, then 0.
  BlockPool pool(3, 4, true);
  pool.set_single_free_queue(true);
  BlockPool::Holding a, b;
  pool.grow(a, 3, 1, 2);
  pool.release(a);
  pool.grow(b, 1, -1, 0);  // the private block: no eviction
  EXPECT_EQ(pool.cached_prefix_blocks(1, 2), 2);
  EXPECT_EQ(pool.evictions(), 0U);
  pool.grow(b, 2, -1, 0);  // next: prefix block 1 (the deeper one) is evicted
  EXPECT_EQ(pool.cached_prefix_blocks(1, 2), 1);
  EXPECT_EQ(pool.evictions(), 1U);
}

TEST(PrefixCacheCarryover, PrimeLeavesPrefixCachedAndFree) {
  BlockPool pool(4, 4, true);
  pool.prime(7, 3);
  EXPECT_EQ(pool.cached_prefix_blocks(7, 5), 3);
  EXPECT_EQ(pool.free(), 4);  // cached but free: evictable
  pool.prime(8, 9);           // more than the pool: at most all of it, evicting group 7's blocks
  EXPECT_EQ(pool.cached_prefix_blocks(8, 9), 4);
  EXPECT_EQ(pool.cached_prefix_blocks(7, 3), 0);
  BlockPool off(4, 4, false);  // no prefix caching: nothing to prime
  off.prime(7, 3);
  EXPECT_EQ(off.cached_prefix_blocks(7, 3), 0);
}

PastRequest past(TimeNs arrival, TimeNs finish, std::int64_t prompt, std::int64_t in, std::int64_t out) {
  return {arrival, finish, prompt, in, out};
}

TEST(PrefixCacheCarryover, KeepsWhatTheServerQueueKept) {
  // 4 blocks of 2 tokens. Prompts 7 and 8 (4 tokens = 2 full blocks each) run one after the other and
  // fill the pool; prompt 9 then takes the 2 least recently freed blocks: prompt 7's.
  const std::vector<CarriedPrefix> c = prefix_cache_carryover(
      {past(0, 10, 7, 4, 0), past(20, 30, 8, 4, 0), past(40, 50, 9, 4, 0)}, 4, 2);
  ASSERT_EQ(c.size(), 2U);
  EXPECT_EQ(c[0].prompt, 8);  // least recently freed first
  EXPECT_EQ(c[0].cached_tokens, 4);
  EXPECT_EQ(c[1].prompt, 9);
  EXPECT_EQ(c[1].cached_tokens, 4);
}

TEST(PrefixCacheCarryover, AHitRefreshesAPrompt) {
  // As above, but prompt 7 is sent again (5 tokens: hits its 2 blocks, cap (5-1)/2 = 2; 1 new block)
  // before prompt 9: now prompt 8's blocks are the oldest and prompt 7 survives.
  const std::vector<CarriedPrefix> c = prefix_cache_carryover(
      {past(0, 10, 7, 4, 0), past(20, 30, 8, 4, 0), past(31, 35, 7, 5, 0), past(40, 50, 9, 4, 0)}, 4, 2);
  std::vector<std::int64_t> prompts;
  for (const auto& p : c) prompts.push_back(p.prompt);
  EXPECT_EQ(prompts, (std::vector<std::int64_t>{7, 9}));
  EXPECT_TRUE(prefix_cache_carryover({}, 4, 2).empty());
  // Output and partial blocks take blocks too: one request of 4 + 4 tokens in a 4-block pool leaves
  // its 2 prompt blocks cached.
  const std::vector<CarriedPrefix> one = prefix_cache_carryover({past(0, 10, 3, 4, 4)}, 4, 2);
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].cached_tokens, 4);
}

}  // namespace
}  // namespace servetwin
