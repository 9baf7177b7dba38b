#pragma once
// `servetwin calibrate probe`: sends the designed request set (probe_design.hpp) to a live endpoint
// through the load runner, one runner per phase stage (per round for the interleaved decode stages),
// and writes probe.json (schema servetwin.probe.v1) after every runner, so an interrupted or failed
// probe keeps what it measured. Each runner's full output (requests.csv, messages.csv, summary.json) is
// kept under OUT.d/<phase>-<stage>[-p<pass>]/. An interleaved round is one entry of "phases" with its
// "pass"; readers merge the entries of one phase and concurrency (a probe from before the interleaving
// has one entry per stage and no "pass").
#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace servetwin::live {

struct ProbeOptions {
  std::string target;     // HOST:PORT
  std::string protocol;   // openai | tgis | caikit
  std::string model_id;   // TGIS model_id / Caikit mm-model-id / OpenAI model (empty: the server's first)
  double budget_s = 300;
  std::filesystem::path out;
  std::string metrics_url;   // http://HOST:PORT/metrics (OpenAI: default the target's); "" = none
  std::string engine_name;   // declared NAME[ VERSION] when the server does not say
  std::int64_t max_context_tokens = 0;  // 0: the server's max_model_len (/v1/models), else 2048
  int max_concurrency = 16;
  int burst_requests = 48;
  std::uint64_t seed = 7;
  double request_timeout_s = 240;
  // Lone requests from this dataset (a servetwin load dataset) in every decode pass, phase "reference":
  // the drift sentinels' shape, so that the loop compares the server's speed like with like ("" = none).
  std::filesystem::path reference_dataset;
};

// Bad options or a budget too small for the design (message says the least budget that would do).
class ProbeUsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The least --budget accepted before anything is sent (the length check plus one request per phase
// stage on a fast server); a slow server can still make the budget too small after the first
// requests, which is then reported the same way (ProbeUsageError), probe.json kept.
constexpr double kMinProbeBudgetS = 60;

// Returns 0 when every phase completed; 1 when interrupted (stop) or a stage failed (probe.json
// marked partial, with the reason). Throws ProbeUsageError as above.
int run_probe(const ProbeOptions& o, const std::atomic<bool>* stop);

}  // namespace servetwin::live
