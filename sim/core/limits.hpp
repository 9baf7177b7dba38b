#pragma once
// Upper and lower bounds on every number a user gives a simulation (flags and scenario files), so
// no input can make a run grow without bound. Each bound says why it is where it is; a value
// outside one is bad input (exit 2) with a message naming the option, the value and the range.
// In sim/core because every reader (flags, scenario files, traces, datasets) checks against them.
#include <cstdint>
#include <string>

namespace servetwin {

struct Limit {
  const char* what = "";  // unit text for messages, e.g. "users", "requests/s"
  double lo = 0;
  double hi = 0;
  bool integer = false;
  bool lo_open = false;  // (lo, hi] instead of [lo, hi]
};

namespace limits {
// Closed-loop users per stage. 10,000 is ~10x the largest batch any engine preset admits (vLLM
// max_num_seqs 1024) and 1,000x the largest published closed-loop level (the seed article's 10);
// a user in flight costs ~4 KB (memory_budget.hpp), so one stage stays under ~40 MB.
inline constexpr Limit kConcurrency{"users", 1, 10000, true};
// Open-loop arrival rate. 100,000 requests/s is ~20x what one replica in the catalog serves
// (vLLM 0.15, Llama-2-7B, short prompts: ~5,000/s); rate x duration is bounded by the memory budget.
inline constexpr Limit kRatePerS{"requests/s", 0, 100000, false, true};
// Stage length: one week. Simulated time is int64 ns (overflows near 292 years); longer stages
// are not meaningful for a steady-state prediction.
inline constexpr Limit kDurationS{"s", 0, 604800, false, true};
// Requests per stage (--requests, 0 = by duration).
inline constexpr Limit kRequests{"requests", 0, 100000000, true};
// Open loop client cap on requests in flight (0 = none); as many as closed-loop users.
inline constexpr Limit kMaxInFlight{"requests", 0, 10000, true};
// Tensor-parallel degree and GPUs per replica: the largest catalog instance has 8 GPUs; 64 leaves
// room for multi-node GPU counts without letting a typo allocate per-GPU state for millions.
inline constexpr Limit kTp{"GPUs", 1, 64, true};
inline constexpr Limit kNumGpus{"GPUs", 1, 64, true};
// Parallel simulations.
inline constexpr Limit kJobs{"threads", 1, 1024, true};
// Tokens of one request (trace and dataset rows): 10 M is ~10x the longest context of any model
// in the catalog; the engine rejects what does not fit its own limit.
inline constexpr Limit kTokensPerRequest{"tokens", 1, 10000000, true};
// Trace arrival time: within the longest stage.
inline constexpr Limit kArrivalS{"s", 0, 604800, false};
// Trace rows: 10 M rows is ~1.5 GB of records; the memory budget (--max-memory) may refuse less.
inline constexpr Limit kTraceRows{"rows", 1, 10000000, true};
}  // namespace limits

// "" when `v` is inside `limit`; otherwise "out of range; allowed: an integer in [1, 100000] users".
std::string limit_violation(double v, const Limit& limit);
// The allowed range as text: "an integer in [1, 100000] users", "a number in (0, 100000] requests/s".
std::string describe_limit(const Limit& limit);

}  // namespace servetwin
