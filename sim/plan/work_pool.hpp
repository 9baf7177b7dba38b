#pragma once
// Runs many independent work items (sweep points, plan candidates) and hands their results back in
// item order, whoever computed them: so output is the same bytes for any number of threads or MPI
// ranks. Items are taken one at a time by whichever worker is free (dynamic load balancing); at most
// a window of finished results waits for its turn, so memory does not grow with the item count.
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "sim/plan/progress_bar.hpp"

namespace servetwin {

using WorkFn = std::function<std::string(std::size_t index)>;
using DeliverFn = std::function<void(std::size_t index, std::string&& result)>;

// Results that may wait for delivery at once (beyond those being computed).
std::size_t result_window(int workers);

// Threads in this process: work(i) for i in [first, n) on `jobs` threads; deliver(i, result) on the
// calling thread in index order. The first exception a work item throws is rethrown here.
void run_ordered_threads(std::size_t first, std::size_t n, int jobs, const WorkFn& work, const DeliverFn& deliver,
                         ProgressBar* progress);

// Under mpirun with more than one rank: the ranks share the items (rank 0 hands them out and
// delivers; the others only compute, with `jobs` threads each); otherwise run_ordered_threads.
// deliver is called on rank 0 only. Returns true on rank 0 (the rank that writes output).
bool run_ordered(std::size_t first, std::size_t n, int jobs, const WorkFn& work, const DeliverFn& deliver,
                 ProgressBar* progress);

// Shared by the thread pool and the MPI root rank: item indices [next, end) not yet taken, finished
// results waiting in `ready` for their turn, `delivered` handed back so far.
struct OrderedState {
  std::mutex m;
  std::condition_variable cv;
  std::size_t next = 0, delivered = 0, end = 0, window = 0;
  std::map<std::size_t, std::string> ready;
  std::exception_ptr error;
};
// A worker thread: takes the next index within the window, computes it, leaves the result in `ready`;
// returns when every index is taken or a work item threw.
void ordered_worker_loop(OrderedState& st, const WorkFn& work);

// MPI state, valid without MPI too (rank 0 of 1). Initialises MPI on first use when launched by mpirun.
int process_rank();
int process_count();
// Threads per rank by default: the cores divided among the ranks on this node.
int default_jobs_per_rank();

}  // namespace servetwin
