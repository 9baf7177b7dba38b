// The twin returns freed heap to the OS while it runs (issue 20 item 4: the gRPC twin's RSS grew
// under cancel churn although its live heap stayed flat; see live/twin/heap_trimmer.hpp).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "live/twin/heap_trimmer.hpp"
#include "tests/live/live_test_util.hpp"

namespace servetwin::testing {
namespace {

std::int64_t rss_kb() {
  std::ifstream f("/proc/self/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

// What churn leaves behind: ~200 MB of 1-kB blocks malloc'ed on a short-lived thread (its own
// arena, like gRPC's threads), all freed but every 32nd, which pins the arena's top so glibc's
// free() cannot hand the freed middle back. Returns the pinned blocks (freed by the caller).
std::vector<void*> fragment_heap() {
  constexpr int kBlocks = 200'000, kBlockBytes = 1000, kKeepEvery = 32;
  std::vector<void*> kept;
  std::thread([&] {
    std::vector<char*> blocks(kBlocks);
    for (auto& b : blocks) {
      b = static_cast<char*>(std::malloc(kBlockBytes));
      for (int i = 0; i < kBlockBytes; i += 512) b[i] = 1;  // touch: resident
    }
    for (int i = 0; i < kBlocks; ++i) {
      if (i % kKeepEvery == 0) {
        kept.push_back(blocks[i]);
      } else {
        std::free(blocks[i]);
      }
    }
  }).join();
  return kept;
}

#if defined(__GLIBC__)
TEST(HeapTrimmer, TrimHeapReturnsFreedArenaPages) {
  const std::int64_t base_kb = rss_kb();
  auto kept = fragment_heap();
  const std::int64_t fragmented_kb = rss_kb();
  // The setup holds: the freed ~190 MB stay resident without a trim.
  ASSERT_GT(fragmented_kb - base_kb, 150'000);
  ASSERT_TRUE(live::trim_heap());
  EXPECT_LT(rss_kb() - base_kb, 60'000);  // kept blocks pin ~6 MB + one page per 32 kB span
  for (void* p : kept) std::free(p);
}

TEST(HeapTrimmer, RunningTwinTrimsWithoutBeingAsked) {
  live::TwinOptions o;
  o.model_name = "m";
  live::TwinServer twin(o, fake_factory());
  twin.start();
  const std::int64_t base_kb = rss_kb();
  auto kept = fragment_heap();
  ASSERT_GT(rss_kb() - base_kb, 150'000);
  // The twin's trimmer runs every 2 s: within 3 periods the freed pages are gone.
  std::int64_t now_kb = rss_kb();
  for (int i = 0; i < 60 && now_kb - base_kb >= 60'000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    now_kb = rss_kb();
  }
  EXPECT_LT(now_kb - base_kb, 60'000);
  for (void* p : kept) std::free(p);
}
#endif

}  // namespace
}  // namespace servetwin::testing
