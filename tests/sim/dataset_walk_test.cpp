// Warm-up requests walk each user's dataset permutation from its end: they never send a prompt the
// measured requests send (a repeat is a prefix-cache hit on a real server: the 2026-12-06 probe's
// prefill stage measured 34-47 ms for a 936-token prompt a warm-up had sent, against ~250 ms fresh),
// and the measured requests draw exactly what they draw without warm-ups (predict's sequence).
#include <gtest/gtest.h>

#include <set>

#include "sim/workload/request_source.hpp"

namespace servetwin {
namespace {

Dataset numbered(int n) {
  Dataset ds;
  ds.name = "numbered";
  for (int i = 0; i < n; ++i) {
    PromptSample s;
    s.id = std::to_string(i);
    s.input_tokens = 10 + i;
    s.output_tokens = 4;
    ds.samples.push_back(s);
  }
  return ds;
}

TEST(DatasetWalk, WarmupsWalkTheSamePermutationFromItsEnd) {
  const Dataset ds = numbered(16);
  for (std::int64_t user = 0; user < 3; ++user) {
    auto measured = make_dataset_source(ds, 42, 7);
    auto warmup = make_dataset_source(ds, 42, 7, DatasetWalk::kFromEnd);
    std::vector<std::int64_t> order;
    for (int k = 0; k < 16; ++k) order.push_back(measured->next_for_user(user).sample_index);
    EXPECT_EQ(std::set<std::int64_t>(order.begin(), order.end()).size(), 16U);  // one pass, a permutation
    for (int k = 0; k < 16; ++k) EXPECT_EQ(warmup->next_for_user(user).sample_index, order[15 - k]) << k;
  }
  // The measured walk does not depend on whether warm-ups were drawn.
  auto a = make_dataset_source(ds, 42, 7);
  auto b = make_dataset_source(ds, 42, 7);
  auto w = make_dataset_source(ds, 42, 7, DatasetWalk::kFromEnd);
  for (int k = 0; k < 5; ++k) {
    (void)w->next_for_user(0);
    EXPECT_EQ(a->next_for_user(0).sample_index, b->next_for_user(0).sample_index);
  }
}

}  // namespace
}  // namespace servetwin
