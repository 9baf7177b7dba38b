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
#include <nlohmann/json.hpp>
#include <vector>

#include "sim/metrics/request_record.hpp"
#include "sim/scenario/deployment.hpp"

namespace servetwin {

class Catalog;

struct LiveStageReplay {
  std::vector<RequestRecord> records;  // simulated records of the replayed requests (live request ids)
  nlohmann::json engine_stats;         // ServingSim::stats() after the stage
};

// `requests`: every request the runner sent in this stage, warmup included (they loaded the
// server too). `deployment` must be resolved. Throws ConfigError / DoesNotFitError when the engine
// model cannot be built for the deployment.
LiveStageReplay resimulate_live_stage(const Catalog& catalog, const DeploymentConfig& deployment, int stage,
                                      std::vector<RequestRecord> requests);

}  // namespace servetwin
