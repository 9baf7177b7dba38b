#include "live/twin/heap_trimmer.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace servetwin::live {

bool trim_heap() {
#if defined(__GLIBC__)
  ::malloc_trim(0);  // 0: keep no padding at the top; also releases whole free pages inside arenas
  return true;
#else
  return false;
#endif
}

HeapTrimmer::HeapTrimmer(std::chrono::milliseconds period) : period_(period), thread_([this] { run(); }) {}

HeapTrimmer::~HeapTrimmer() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void HeapTrimmer::run() {
  std::unique_lock lk(mu_);
  // malloc_trim locks one arena at a time while it walks its free chunks, so it runs on its own
  // thread, never on the driver's (which then waits at most for one arena's walk on a malloc).
  while (!cv_.wait_for(lk, period_, [this] { return stop_; })) {
    lk.unlock();
    trim_heap();
    lk.lock();
  }
}

}  // namespace servetwin::live
