#pragma once
// Hands the twin's freed heap back to the OS every `period`. Why: under connect/cancel churn the
// gRPC twin's live heap stays flat (~40 MB at 2,000 streams, heaptrack), but glibc malloc keeps the
// freed pages of its per-thread arenas resident (it only returns an arena's top), so RSS climbed
// 79 -> 464 MB in a 10-minute soak and stayed there after the load stopped; one malloc_trim(0)
// took a churned twin from 127 MB to 27 MB (docs/reliability.md, Soak). A no-op off glibc.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace servetwin::live {

// Returns free pages of every malloc arena to the OS; false where the C library cannot.
bool trim_heap();

class HeapTrimmer {
 public:
  explicit HeapTrimmer(std::chrono::milliseconds period);
  ~HeapTrimmer();  // stops and joins the thread
  HeapTrimmer(const HeapTrimmer&) = delete;
  HeapTrimmer& operator=(const HeapTrimmer&) = delete;

 private:
  void run();
  std::chrono::milliseconds period_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace servetwin::live
