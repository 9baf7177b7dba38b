#pragma once
// A scenario: a deployment, a workload, and load stages (concurrency levels or arrival rates),
// each stage simulated as its own run of `duration_s` on a fresh server (as llm-load-test runs
// one test per concurrency level). Results carry metrics, engine statistics and cost.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/catalog/specs.hpp"
#include "sim/metrics/load_shape.hpp"
#include "sim/metrics/request_record.hpp"
#include "sim/metrics/stage_metrics.hpp"
#include "sim/scenario/deployment.hpp"
#include "sim/workload/trace.hpp"

namespace servetwin {

class Catalog;
class EventQueue;
class ServingSim;
class SimListener;

// A closed-loop user whose request was rejected retries after this pause; without it a server that
// rejects instantly would be hammered in zero simulated time (llm-load-test has no backoff at all).
inline constexpr TimeNs kRejectRetryNs = 10 * kNsPerMs;

struct LoadSpec {
  std::string type = "closed";   // closed | open | trace
  std::vector<double> levels;    // concurrency (closed) or requests/s (open); trace: one stage
  // open: poisson | constant | gamma:CV; closed: "waves" sends the users' requests in synchronised waves (each
  // wave waits for its slowest request, sim/workload/wave_gate.hpp); any other value is the ordinary closed loop.
  std::string arrival = "poisson";
  std::int64_t max_in_flight = 0;   // open: client-side cap (0 = none); arrivals wait for a slot
};

struct Scenario {
  std::string name;
  DeploymentConfig deployment;
  std::string workload = "openorca-32";  // catalog workload; ignored when dataset/trace given
  std::string dataset_path;              // llm-load-test v1/v2 file
  std::string trace_path;                // trace replay CSV
  std::vector<TraceRow> trace_rows;      // in-memory trace (validate: DistServe replay, offline/static batches)
  // > 0: every request has exactly these lengths instead of a catalog workload (validate: a closed-loop
  // row that gives only its mean lengths).
  std::int64_t fixed_input_tokens = 0, fixed_output_tokens = 0;
  // Set: input and output lengths drawn from these (validate: a named dataset's shape scaled to a row's means).
  std::optional<std::pair<LengthDist, LengthDist>> length_dists;
  // true: length_dists came from --input-tokens/--output-tokens (a synthetic workload), not validate's scaling.
  bool synthetic_lengths = false;
  LoadSpec load;
  double duration_s = 240;               // stage length (closed: users stop sending; open: arrivals stop)
  std::int64_t max_requests = 0;         // stop sending after this many requests (0 = by duration)
  // true: the measurement window runs from the first arrival to the last completion (as a request-count run
  // such as `vllm bench serve --num-prompts N` measures), not [0, duration_s).
  bool window_from_records = false;
  std::uint64_t seed = 42;
  // Requests one stage may hold at once (records + in flight + waiting); 0 = no cap. Set from the
  // memory budget (memory_budget.hpp); exceeding it stops the run with a ConfigError.
  std::int64_t max_stage_requests = 0;
  // Closed loop: a rejected user backs off as `servetwin load` does (sim/workload/client_backoff.hpp)
  // instead of retrying after kRejectRetryNs. Opt-in (--client-backoff): the default keeps every
  // existing prediction, some of which have rejections (e.g. TGI 1.0 above its admission limit).
  bool client_backoff = false;
};

struct StageResult {  // NOLINT(bugprone-exception-escape): nlohmann::json moves, as ScenarioResult (summary.hpp)
  nlohmann::json load;                   // {"type", "concurrency"|"rate_per_s"|"trace"}
  StageMetrics metrics;
  nlohmann::json engine_stats;
  nlohmann::json cost;                   // usd_per_hour, usd_per_1m_output_tokens, minutes_per_1m_output_tokens
  std::vector<RequestRecord> records;
  nlohmann::json rejections;             // RejectionTally::to_json: null when nothing was rejected
  nlohmann::json client_backoff;         // ClientBackoff::to_json with Scenario::client_backoff, else null
  std::uint64_t events = 0;
  LoadShape load_shape;                  // queueing read off the records (kept when the records are dropped)
  nlohmann::json interval;               // prediction interval (sim/interval/stage_interval.hpp); null: none
};

struct ScenarioRun {
  Scenario scenario;                     // as resolved
  nlohmann::json resolved_config;
  std::vector<StageResult> stages;
  std::string error;                     // non-empty when the scenario cannot run (e.g. does not fit)
};

// Resolves names and defaults; throws ConfigError for bad input.
Scenario resolve_scenario(const Catalog& catalog, Scenario s);
nlohmann::json scenario_to_json(const Scenario& s);

// Builds the simulated server a stage drives. Empty: make_serving_sim on the scenario's deployment.
// The planner passes one that puts several replicas behind a router (sim/plan/replica_router.hpp).
using ServingSimFactory = std::function<std::unique_ptr<ServingSim>(EventQueue& queue, SimListener* listener)>;

// Runs one stage. Thread-safe for distinct stages (no shared mutable state).
StageResult run_stage(const Catalog& catalog, const Scenario& s, int stage_index, bool keep_records,
                      const ServingSimFactory& make_sim = {});

// Runs all stages of all scenarios on `jobs` threads; results in input order (deterministic).
// A scenario whose deployment cannot run gets `error` set instead of throwing.
std::vector<ScenarioRun> run_scenarios(const Catalog& catalog, const std::vector<Scenario>& scenarios, int jobs,
                                       bool keep_records, bool progress);

}  // namespace servetwin
