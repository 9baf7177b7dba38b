// Capacity policies answer from the read-only PagedState; a footprint-reserving policy's reservation
// is taken through PagedCommit (the one mutating path), and closing the request gives it back.
#include <gtest/gtest.h>

#include "sim/engine/capacity_policy.hpp"
#include "sim/engine/paged_state.hpp"

namespace servetwin {
namespace {

struct Fixture {
  PagedState state;
  PagedCommit commit{state};
  SimRequest req;
  explicit Fixture(const CapacityPolicy& policy) {
    PagedLimits limits;
    limits.block_size = 16;
    limits.block_shift = 4;
    commit.configure(limits, policy, BlockPool(10, 16, false));
    req.in.id = 1;
    req.in.input_tokens = 32;
    req.max_new_tokens = 64;  // footprint: ceil(96 / 16) = 6 blocks
    commit.open(req, 32);
    commit.enqueue(&req);
  }
  void start() {
    std::int64_t n = 0;
    ASSERT_TRUE(commit.try_admit(&req, 100, 0, n));
    EXPECT_EQ(n, 32);
    commit.push_running(commit.pop_waiting());
  }
};

TEST(CapacityPolicy, NoEvictCountsWhatRunningRequestsMayStillGrowTo) {
  const auto policy = make_capacity_policy("guaranteed_no_evict");
  Fixture f(*policy);
  EXPECT_TRUE(policy->may_start(f.state, 10));
  EXPECT_FALSE(policy->may_start(f.state, 11));
  f.start();
  EXPECT_EQ(f.state.free_blocks(), 8);       // 2 blocks hold the prompt now ...
  EXPECT_EQ(f.state.committed_blocks(), 6);  // ... but 6 are promised to it
  EXPECT_TRUE(policy->may_start(f.state, 4));
  EXPECT_FALSE(policy->may_start(f.state, 5));
  f.commit.close(f.req);
  EXPECT_EQ(f.state.committed_blocks(), 0);
  EXPECT_EQ(f.state.free_blocks(), 10);
}

TEST(CapacityPolicy, MaxUtilizationStartsAgainstTheBlocksNeededNow) {
  const auto policy = make_capacity_policy("max_utilization");
  Fixture f(*policy);
  f.start();
  EXPECT_EQ(f.state.committed_blocks(), 0);
  EXPECT_TRUE(policy->may_start(f.state, 1000));  // the planner checks free blocks; eviction makes room
}

TEST(CapacityPolicy, StaticBatchNeedsTheWholeFootprintFree) {
  const auto policy = make_capacity_policy("static_batch");
  Fixture f(*policy);
  f.start();
  EXPECT_TRUE(policy->may_start(f.state, 8));
  EXPECT_FALSE(policy->may_start(f.state, 9));
}

}  // namespace
}  // namespace servetwin
