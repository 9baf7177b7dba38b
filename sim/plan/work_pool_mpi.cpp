// run_ordered over MPI ranks (built when SERVETWIN_WITH_MPI finds Open MPI and Boost.MPI). Rank 0
// hands out item indices one at a time to whichever worker slot asks (dynamic load balancing), never
// beyond the result window, receives the results and delivers them in index order, as the threads
// do: so the output is the same bytes as one process. Every rank computes on its own threads; only
// each rank's main thread calls MPI (MPI_THREAD_FUNNELED). MPI starts only under a launcher (mpirun,
// srun): a plain run never touches it.
#include <boost/mpi.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sim/plan/work_pool.hpp"

namespace servetwin {
namespace mpi = boost::mpi;
namespace {

constexpr int kTagIndex = 1;   // worker -> root: finished index (or -1: a slot asking for work)
constexpr int kTagText = 2;    // worker -> root: that index's result
constexpr int kTagAssign = 3;  // root -> worker: index to compute, or -1: this slot stops
constexpr auto kPoll = std::chrono::milliseconds(1);

// getenv races only with setenv/putenv, which servetwin never calls.
bool launched_by_mpi() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr ||
         std::getenv("PMI_RANK") != nullptr;  // NOLINT(concurrency-mt-unsafe)
}

mpi::communicator* world() {
  static std::unique_ptr<mpi::environment> env;
  static std::unique_ptr<mpi::communicator> comm;
  if (!launched_by_mpi()) return nullptr;
  if (!env) {
    env = std::make_unique<mpi::environment>(mpi::threading::funneled);
    comm = std::make_unique<mpi::communicator>();
  }
  return comm.get();
}

[[noreturn]] void abort_all(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::cerr << "servetwin: error on MPI rank " << world()->rank() << ": " << ex.what() << "\n";
  } catch (...) {
    std::cerr << "servetwin: unknown error on MPI rank " << world()->rank() << "\n";
  }
  world()->abort(1);
  std::abort();
}

// A rank's compute threads: they take indices from `todo` and leave results in `done`.
struct LocalWorkers {
  std::mutex m;
  std::condition_variable cv;
  std::deque<std::int64_t> todo;
  std::deque<std::pair<std::int64_t, std::string>> done;
  std::exception_ptr error;
  bool stop = false;
  std::vector<std::thread> threads;

  LocalWorkers(int jobs, const WorkFn& work) {
    for (int t = 0; t < jobs; ++t) threads.emplace_back([this, &work] { loop(work); });
  }
  ~LocalWorkers() {
    {
      const std::lock_guard<std::mutex> lock(m);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
  }
  LocalWorkers(const LocalWorkers&) = delete;
  LocalWorkers& operator=(const LocalWorkers&) = delete;

  void loop(const WorkFn& work) {
    for (;;) {
      std::int64_t i = 0;
      {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return stop || !todo.empty(); });
        if (stop) return;
        i = todo.front();
        todo.pop_front();
      }
      try {
        std::string r = work(static_cast<std::size_t>(i));
        const std::lock_guard<std::mutex> lock(m);
        done.emplace_back(i, std::move(r));
      } catch (...) {
        const std::lock_guard<std::mutex> lock(m);
        error = std::current_exception();
      }
      cv.notify_all();
    }
  }
};

void run_worker_rank(mpi::communicator& comm, int jobs, const WorkFn& work) {
  LocalWorkers local(jobs, work);
  for (int s = 0; s < jobs; ++s) comm.send(0, kTagIndex, std::int64_t{-1});
  int stopped = 0;
  std::int64_t assigned = 0;
  mpi::request pending = comm.irecv(0, kTagAssign, assigned);
  while (stopped < jobs) {
    if (pending.test()) {
      if (assigned < 0) {
        ++stopped;
      } else {
        const std::lock_guard<std::mutex> lock(local.m);
        local.todo.push_back(assigned);
      }
      local.cv.notify_all();
      if (stopped < jobs) pending = comm.irecv(0, kTagAssign, assigned);
      continue;
    }
    std::deque<std::pair<std::int64_t, std::string>> finished;
    {
      std::unique_lock<std::mutex> lock(local.m);
      local.cv.wait_for(lock, kPoll, [&] { return !local.done.empty() || local.error; });
      if (local.error) abort_all(local.error);
      finished.swap(local.done);
    }
    for (auto& [i, text] : finished) {  // each result asks for the slot's next item
      comm.send(0, kTagIndex, i);
      comm.send(0, kTagText, text);
    }
  }
}

struct RootState : OrderedState {
  std::deque<int> waiting;  // ranks whose slot asked and got no answer yet
  int stops_sent = 0;
};

// Answers waiting slots: the next index within the window, or -1 when all are handed out.
void answer_slots(mpi::communicator& comm, RootState& st) {
  while (!st.waiting.empty()) {
    std::int64_t give = -1;
    {
      const std::lock_guard<std::mutex> lock(st.m);
      if (st.next < st.end && st.next >= st.delivered + st.window) return;  // window full: wait
      if (st.next < st.end) give = static_cast<std::int64_t>(st.next++);
    }
    comm.send(st.waiting.front(), kTagAssign, give);
    st.waiting.pop_front();
    if (give < 0) ++st.stops_sent;
  }
}

// Receives finished results and requests from the other ranks; true when any arrived.
bool receive_results(mpi::communicator& comm, RootState& st) {
  bool any = false;
  while (auto status = comm.iprobe(mpi::any_source, kTagIndex)) {
    std::int64_t i = 0;
    comm.recv(status->source(), kTagIndex, i);
    if (i >= 0) {
      std::string text;
      comm.recv(status->source(), kTagText, text);
      const std::lock_guard<std::mutex> lock(st.m);
      st.ready.emplace(static_cast<std::size_t>(i), std::move(text));
    }
    st.waiting.push_back(status->source());
    any = true;
  }
  return any;
}

// Hands back every result whose turn has come; true when any was.
bool deliver_ready(RootState& st, const DeliverFn& deliver, ProgressBar* progress) {
  bool any = false;
  for (;;) {
    std::string r;
    {
      const std::lock_guard<std::mutex> lock(st.m);
      if (st.error) abort_all(st.error);
      const auto it = st.ready.find(st.delivered);
      if (it == st.ready.end()) break;
      r = std::move(it->second);
      st.ready.erase(it);
    }
    deliver(st.delivered, std::move(r));
    {
      const std::lock_guard<std::mutex> lock(st.m);
      ++st.delivered;
    }
    st.cv.notify_all();  // the window moved: own threads may take more
    if (progress != nullptr) progress->update(st.delivered);
    any = true;
  }
  return any;
}

void run_root_rank(mpi::communicator& comm, RootState& st, int jobs, int remote_slots, const WorkFn& work,
                   const DeliverFn& deliver, ProgressBar* progress) {
  // The root's own threads take indices through the same counter as the remote slots.
  std::vector<std::thread> own;
  own.reserve(static_cast<std::size_t>(std::max(jobs, 0)));
  for (int t = 0; t < jobs; ++t) own.emplace_back([&] { ordered_worker_loop(st, work); });
  while (st.delivered < st.end || st.stops_sent < remote_slots) {
    const bool received = receive_results(comm, st);
    const bool delivered = deliver_ready(st, deliver, progress);
    answer_slots(comm, st);
    if (!received && !delivered) {
      std::unique_lock<std::mutex> lock(st.m);
      st.cv.wait_for(lock, kPoll);
    }
  }
  for (auto& t : own) t.join();
}

}  // namespace

int process_rank() { return world() == nullptr ? 0 : world()->rank(); }
int process_count() { return world() == nullptr ? 1 : world()->size(); }

int default_jobs_per_rank() {
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");  // NOLINT(concurrency-mt-unsafe): see launched_by_mpi
  const int ranks_here = local != nullptr ? std::max(1, std::atoi(local)) : 1;
  return std::max(1, cores / ranks_here);
}

bool run_ordered(std::size_t first, std::size_t n, int jobs, const WorkFn& work, const DeliverFn& deliver,
                 ProgressBar* progress) {
  mpi::communicator* comm = world();
  if (comm == nullptr || comm->size() == 1) {
    run_ordered_threads(first, n, jobs, work, deliver, progress);
    return true;
  }
  const int remote_slots = mpi::all_reduce(*comm, comm->rank() == 0 ? 0 : jobs, std::plus<int>());
  if (comm->rank() != 0) {
    run_worker_rank(*comm, jobs, work);
    return false;
  }
  std::cerr << "servetwin: " << comm->size() << " MPI ranks, " << jobs + remote_slots << " worker threads in all\n";
  RootState st;
  st.next = st.delivered = first;
  st.end = n;
  st.window = result_window(jobs + remote_slots);
  run_root_rank(*comm, st, jobs, remote_slots, work, deliver, progress);
  return true;
}

}  // namespace servetwin
