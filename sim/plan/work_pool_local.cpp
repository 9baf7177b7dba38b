// run_ordered without MPI (built when SERVETWIN_WITH_MPI is off): one process, threads only.
#include <algorithm>
#include <thread>

#include "sim/plan/work_pool.hpp"

namespace servetwin {

bool run_ordered(std::size_t first, std::size_t n, int jobs, const WorkFn& work, const DeliverFn& deliver,
                 ProgressBar* progress) {
  run_ordered_threads(first, n, jobs, work, deliver, progress);
  return true;
}

int process_rank() { return 0; }
int process_count() { return 1; }
int default_jobs_per_rank() { return std::max(1, static_cast<int>(std::thread::hardware_concurrency())); }

}  // namespace servetwin
