#pragma once
// Predicts the memory a simulation needs before it starts and refuses one that would not fit the
// budget (`--max-memory`, default 1 GB or a quarter of the machine's RAM, whichever is smaller),
// instead of letting it grow until the kernel kills it. The same per-request cost also caps each stage while it runs (Scenario::
// max_stage_requests), which covers what cannot be predicted up front (closed-loop completions).
#include <cstdint>
#include <string>
#include <vector>

#include "sim/scenario/scenario.hpp"

namespace servetwin {

// Peak RSS per request of one stage: records kept for the metrics plus the engine's and the event
// queue's state while it waits. Measured (README "Resource limits"): vLLM 0.15, Llama-2-7B on
// g5.2xlarge, open loop 5000/s x 60 s = 300k requests, all queued: 242 MB peak, ~770 B/request;
// 400/s x 240 s = 96k requests: ~700 B/request. Rounded up; re-measure when RequestRecord or the
// engines' per-request state grow.
inline constexpr double kBytesPerStageRequest = 1000;
// A closed-loop user in flight: 100,000 users against vLLM 0.15 (Llama-2-7B, g5.2xlarge) peaked at
// 368 MB, ~3.7 KB each (every user's first request is queued at t = 0). Rounded up.
inline constexpr double kBytesPerClosedLoopUser = 4000;
// Rejected retries one closed-loop stage may simulate: users above the engine's admission limit
// retry every kRejectRetryNs at 0.4-1.4 M retries per second of CPU (measured on the 2-core dev
// machine: 512 users against TGIS for 240 s, 9.2 M retries in 6.7-10.9 s; 10,000 users for 10 s,
// 9.9 M in 23 s), so 2e7 is at most ~50 s of CPU.
inline constexpr double kMaxRejectedRetriesPerStage = 2e7;
// Fixed cost of the process (catalog, code, one engine's tables).
inline constexpr double kBaseProcessBytes = 64e6;

// 1 GB, or a quarter of physical memory on a smaller machine: the rest of the machine stays usable
// while a run goes. Larger runs ask for it with --max-memory.
double default_memory_budget_bytes();

// Bytes a stage will hold at most, as far as is known before it runs: open loop rate x duration
// requests (or --requests), trace rows, closed loop its users in flight (completions of a closed
// loop depend on the engine's speed; the per-stage cap bounds them at run time).
double predicted_stage_bytes(const Scenario& s, std::size_t stage);

// Checks the predicted peak (the `jobs` largest stages at once) against `budget_bytes`, and each
// closed-loop stage's rejected retries (users above the engine's admission limit) against
// kMaxRejectedRetriesPerStage; throws ConfigError naming the stage, the prediction and the limit.
// Then sets every scenario's max_stage_requests so a running stage is stopped, with the same kind of
// error, before it exceeds its share of the budget.
void apply_memory_budget(const Catalog& catalog, std::vector<Scenario>& scenarios, int jobs, double budget_bytes);

}  // namespace servetwin
