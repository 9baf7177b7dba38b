#pragma once
// Re-simulates one stage of a live run (`servetwin validate --live`): the same requests (lengths
// as the server reported them) reach the simulated engine with the same client behaviour.
//
// Open loop: each request arrives at its recorded send time. Closed loop: each user's first
// request at its recorded send time, and each next one when the user's previous request finishes
// in the simulation plus the client's recorded turnaround (send time minus the previous request's
// last message), so the prediction depends on the engine model only, not on the live latencies
// being predicted. Requests that did not finish ok live (rejected, errors, timeouts) are not
// replayed (their length is unknown); in a closed loop the user is busy for their live duration.
//
// Duration-mode closed loops (`keep_sending_until_ns`): the live users kept sending until the window
// closed, so the simulated users do too. Without that, a simulated engine faster than the server
// runs out of recorded requests early, and its window throughput is capped at the live count: a
// too-fast model would score a throughput error near zero. After its recorded requests, a user
// repeats their lengths in order, each sent its median recorded turnaround after the previous one
// finished, while the send time is before the window's end; those requests get ids from
// kReplayExtensionIdBase up.
//
// Prompt reuse (`prompt_of`, from the run's schedule.csv): requests that sent the same dataset
// prompt share that whole prompt as a prefix (prefix_group = the sample index), so an engine model
// with prefix caching serves a repeat's full cached blocks as vLLM V1 does (all but the last token).
// The server's prefix cache also holds what earlier stages of the run sent (`earlier_requests`): without
// it, every stage's first send of a prompt is a cache miss in the replay and a hit on the server
// (issue 15: closed-B's 512-token prompts, 384 of them cached, predicted as full prefills).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/formats/live_schedule_reader.hpp"
#include "sim/metrics/request_record.hpp"
#include "sim/scenario/deployment.hpp"
#include "sim/validate/prefix_cache_carryover.hpp"

namespace servetwin {

class Catalog;

inline constexpr std::uint64_t kReplayExtensionIdBase = std::uint64_t{1} << 62;

struct LiveStageReplay {  // NOLINT(bugprone-exception-escape): nlohmann::json moves, as ScenarioResult (summary.hpp)
  std::vector<RequestRecord> records;  // simulated records of the replayed requests (live request ids)
  nlohmann::json engine_stats;         // ServingSim::stats() after the stage
};

// `requests`: every request the runner sent in this stage, warmup included (they loaded the
// server too). `deployment` must be resolved. Throws ConfigError / DoesNotFitError when the engine
// model cannot be built for the deployment.
struct ReplayOptions {
  TimeNs keep_sending_until_ns = -1;           // < 0: replay the recorded requests only
  const PromptOfRequest* prompt_of = nullptr;  // null or empty: no request repeats another's prompt
  // Requests the same server ran before this stage (earlier stages of the run): the engine's prefix
  // cache starts with what the server's still held (prefix_cache_carryover.hpp), as a live server's
  // cache outlives a stage.
  std::vector<PastRequest> earlier_requests = {};
};

LiveStageReplay resimulate_live_stage(const Catalog& catalog, const DeploymentConfig& deployment, int stage,
                                      std::vector<RequestRecord> requests, const ReplayOptions& options = {});

}  // namespace servetwin
