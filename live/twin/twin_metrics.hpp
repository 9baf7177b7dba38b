#pragma once
// The twin's Prometheus metrics, named and bucketed as vLLM's V1 engine exports them
// (vllm/v1/metrics/loggers.py, PrometheusStatLogger, vLLM 0.10/0.11; docs/live.md lists each
// metric and what the twin measures it from). Every sample carries model_name and engine="0"
// labels, as vLLM's do, in the same order (Prometheus' Python client sorts them by name). Owned by the twin's driver thread: updated from engine callbacks and
// rendered on request (TwinEngine::metrics_text), so it needs no lock of its own.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace servetwin::live {

// A Prometheus histogram: cumulative buckets on render, +Inf implied.
class PromHistogram {
 public:
  explicit PromHistogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)), counts_(bounds_.size()) {}
  void observe(double v);
  void render(std::string& out, const std::string& name, const std::string& help, const std::string& labels) const;
  [[nodiscard]] std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// KV capacity of the modelled engine in tokens (0 = the engine counts KV in another unit, e.g.
// TGIS's padded-weight budget: the usage gauge is then not exported).
struct KvCapacity {
  double tokens = 0;
  std::int64_t block_tokens = 1;  // allocation granularity (vLLM's block size)
};

// Engine state at render time (driver thread).
struct TwinGauges {
  std::int64_t running = 0;
  std::int64_t waiting = 0;
  double kv_usage = -1;  // fraction 0..1; < 0 = unknown, not exported
  std::int64_t preemptions = 0;
};

// One finished request, in seconds and tokens.
struct FinishedRequest {
  double e2e_s = 0, queue_s = 0, prefill_s = 0, decode_s = 0, inference_s = 0;
  std::int64_t prompt_tokens = 0, generation_tokens = 0, max_tokens = 0;
  std::string finished_reason;  // "length" or "stop" (vLLM's FinishReason names)
};

class TwinMetrics {
 public:
  TwinMetrics();
  // The served model name (label) and max_model_len (the token-count histograms' range).
  void configure(const std::string& model_name, std::int64_t max_model_len);

  // The first token of a request (its prompt is then processed) and every later token.
  void on_first_token(std::int64_t prompt_tokens, double ttft_s);
  void on_token(double since_previous_token_s);
  void on_finished(const FinishedRequest& r);
  void on_aborted() { ++success_by_reason_["abort"]; }  // client went away (vLLM's FinishReason.ABORT)

  [[nodiscard]] std::string render(const TwinGauges& g) const;

 private:
  std::string labels_;  // model_name="..." (engine="0" is added per sample)
  std::int64_t prompt_tokens_ = 0, generation_tokens_ = 0;
  std::map<std::string, std::int64_t> success_by_reason_;
  PromHistogram ttft_, itl_, request_tpot_, e2e_, queue_, inference_, prefill_, decode_;
  PromHistogram prompt_len_, generation_len_, max_tokens_;
};

// vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, ... up to and including `max_value`.
std::vector<double> one_two_five_buckets(std::int64_t max_value);

}  // namespace servetwin::live
