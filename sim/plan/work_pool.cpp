#include "sim/plan/work_pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace servetwin {

std::size_t result_window(int workers) { return std::max<std::size_t>(64, 4 * static_cast<std::size_t>(std::max(1, workers))); }

void ordered_worker_loop(OrderedState& st, const WorkFn& work) {
  for (;;) {
    std::size_t i = 0;
    {
      std::unique_lock<std::mutex> lock(st.m);
      st.cv.wait(lock, [&] { return st.error || st.next >= st.end || st.next < st.delivered + st.window; });
      if (st.error || st.next >= st.end) return;
      i = st.next++;
    }
    try {
      std::string r = work(i);
      const std::lock_guard<std::mutex> lock(st.m);
      st.ready.emplace(i, std::move(r));
    } catch (...) {
      const std::lock_guard<std::mutex> lock(st.m);
      if (!st.error) st.error = std::current_exception();
    }
    st.cv.notify_all();
  }
}

void run_ordered_threads(std::size_t first, std::size_t n, int jobs, const WorkFn& work, const DeliverFn& deliver,
                         ProgressBar* progress) {
  OrderedState st;
  st.next = st.delivered = first;
  st.end = n;
  const int workers = std::max(1, std::min<int>(jobs, static_cast<int>(std::max<std::size_t>(1, n - std::min(n, first)))));
  st.window = result_window(workers);
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(workers));
  for (int t = 0; t < workers; ++t) threads.emplace_back([&] { ordered_worker_loop(st, work); });
  while (st.delivered < n) {
    std::string r;
    {
      std::unique_lock<std::mutex> lock(st.m);
      st.cv.wait(lock, [&] { return st.error || st.ready.count(st.delivered) > 0; });
      if (st.error) break;
      const auto it = st.ready.find(st.delivered);
      r = std::move(it->second);
      st.ready.erase(it);
    }
    deliver(st.delivered, std::move(r));  // outside the lock: writing output overlaps the workers
    {
      const std::lock_guard<std::mutex> lock(st.m);
      ++st.delivered;
    }
    st.cv.notify_all();
    if (progress != nullptr) progress->update(st.delivered);
  }
  for (auto& t : threads) t.join();
  if (st.error) std::rethrow_exception(st.error);
}

}  // namespace servetwin
