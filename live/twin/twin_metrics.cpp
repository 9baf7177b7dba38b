#include "live/twin/twin_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace servetwin::live {
namespace {

// Bucket bounds from vLLM's PrometheusStatLogger (facts, checked against vllm/v1/metrics/loggers.py).
const std::vector<double> kTtftBuckets{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75,
                                       1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kTokenIntervalBuckets{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,  0.3,  0.4, 0.5,
                                                0.75, 1.0,   2.5,  5.0,   7.5, 10.0, 20.0, 40.0, 80.0};
const std::vector<double> kRequestLatencyBuckets{0.3,  0.5,  0.8,  1.0,  1.5,   2.0,   2.5,   5.0,   10.0,  15.0,  20.0,
                                                 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

// Prometheus' Python client writes floats as Python's repr does (1.0, 0.25, +Inf); so does this.
std::string prom_number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.1f}", v);
  return fmt::format("{}", v);
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// Labels in the order Prometheus' Python client writes them (sorted by name): engine, then the
// sample's own label (le, finished_reason), then model_name.
void write_sample(std::string& out, const std::string& name, const std::string& model_label, double v,
            const std::string& extra_label = "") {
  fmt::format_to(std::back_inserter(out), "{}{{engine=\"0\",{}{}}} {}\n", name, extra_label,
                 extra_label.empty() ? model_label : "," + model_label, prom_number(v));
}

}  // namespace

std::vector<double> one_two_five_buckets(std::int64_t max_value) {
  std::vector<double> b;
  for (double exponent = 1;; exponent *= 10) {
    for (double m : {1.0, 2.0, 5.0}) {
      if (m * exponent > static_cast<double>(max_value)) return b;
      b.push_back(m * exponent);
    }
  }
}

void PromHistogram::observe(double v) {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);  // le: v <= bound
  if (it != bounds_.end()) ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
  sum_ += v;
  ++count_;
}

void PromHistogram::render(std::string& out, const std::string& name, const std::string& help,
                           const std::string& labels) const {
  header(out, name, help, "histogram");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    write_sample(out, name + "_bucket", labels, static_cast<double>(cumulative), "le=\"" + prom_number(bounds_[i]) + "\"");
  }
  write_sample(out, name + "_bucket", labels, static_cast<double>(count_), "le=\"+Inf\"");
  write_sample(out, name + "_count", labels, static_cast<double>(count_));
  write_sample(out, name + "_sum", labels, sum_);
}

TwinMetrics::TwinMetrics()
    : ttft_(kTtftBuckets),
      itl_(kTokenIntervalBuckets),
      request_tpot_(kTokenIntervalBuckets),
      e2e_(kRequestLatencyBuckets),
      queue_(kRequestLatencyBuckets),
      inference_(kRequestLatencyBuckets),
      prefill_(kRequestLatencyBuckets),
      decode_(kRequestLatencyBuckets),
      prompt_len_({}),
      generation_len_({}),
      max_tokens_({}) {}

void TwinMetrics::configure(const std::string& model_name, std::int64_t max_model_len) {
  // Label values are escaped as Prometheus' text format requires (JSON string escaping covers
  // backslash, double quote and newline the same way).
  const std::string quoted = nlohmann::json(model_name).dump();
  labels_ = "model_name=" + quoted;
  const auto len_buckets = one_two_five_buckets(std::max<std::int64_t>(max_model_len, 1));
  prompt_len_ = PromHistogram(len_buckets);
  generation_len_ = PromHistogram(len_buckets);
  max_tokens_ = PromHistogram(len_buckets);
}

void TwinMetrics::on_first_token(std::int64_t prompt_tokens, double ttft_s) {
  prompt_tokens_ += prompt_tokens;
  ++generation_tokens_;
  ttft_.observe(ttft_s);
}

void TwinMetrics::on_token(double since_previous_token_s) {
  ++generation_tokens_;
  itl_.observe(since_previous_token_s);
}

void TwinMetrics::on_finished(const FinishedRequest& r) {
  ++success_by_reason_[r.finished_reason];
  e2e_.observe(r.e2e_s);
  queue_.observe(r.queue_s);
  inference_.observe(r.inference_s);
  prefill_.observe(r.prefill_s);
  decode_.observe(r.decode_s);
  // Mean time per output token of the request: its decode time over the tokens after the first.
  if (r.generation_tokens > 1) request_tpot_.observe(r.decode_s / static_cast<double>(r.generation_tokens - 1));
  prompt_len_.observe(static_cast<double>(r.prompt_tokens));
  generation_len_.observe(static_cast<double>(r.generation_tokens));
  max_tokens_.observe(static_cast<double>(r.max_tokens));
}

std::string TwinMetrics::render(const TwinGauges& g) const {
  std::string out;
  out.reserve(16384);
  const auto gauge = [&](const char* name, const char* help, double v) {
    header(out, name, help, "gauge");
    write_sample(out, name, labels_, v);
  };
  const auto counter = [&](const char* name, const char* help, double v) {
    header(out, name, help, "counter");
    write_sample(out, name, labels_, v);
  };
  gauge("vllm:num_requests_running", "Number of requests in model execution batches.", static_cast<double>(g.running));
  gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", static_cast<double>(g.waiting));
  if (g.kv_usage >= 0) {
    gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", g.kv_usage);
    gauge("vllm:gpu_cache_usage_perc",
          "GPU KV-cache usage. 1 means 100 percent usage. DEPRECATED: Use vllm:kv_cache_usage_perc instead.",
          g.kv_usage);
  }
  counter("vllm:num_preemptions_total", "Cumulative number of preemption from the engine.",
          static_cast<double>(g.preemptions));
  counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", static_cast<double>(prompt_tokens_));
  counter("vllm:generation_tokens_total", "Number of generation tokens processed.",
          static_cast<double>(generation_tokens_));
  header(out, "vllm:request_success_total", "Count of successfully processed requests.", "counter");
  for (const char* reason : {"stop", "length", "abort"}) {
    const auto it = success_by_reason_.find(reason);
    write_sample(out, "vllm:request_success_total", labels_,
           it == success_by_reason_.end() ? 0.0 : static_cast<double>(it->second),
           std::string("finished_reason=\"") + reason + "\"");
  }
  prompt_len_.render(out, "vllm:request_prompt_tokens", "Number of prefill tokens processed.", labels_);
  generation_len_.render(out, "vllm:request_generation_tokens", "Number of generation tokens processed.", labels_);
  max_tokens_.render(out, "vllm:request_params_max_tokens", "Histogram of the max_tokens request parameter.",
                     labels_);
  ttft_.render(out, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", labels_);
  // vLLM 0.10 observes every token interval as time_per_output_token_seconds; 0.11 adds the same
  // observations as inter_token_latency_seconds. Both names are served so either dashboard works.
  itl_.render(out, "vllm:time_per_output_token_seconds", "Histogram of time per output token in seconds.", labels_);
  itl_.render(out, "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", labels_);
  request_tpot_.render(out, "vllm:request_time_per_output_token_seconds",
                       "Histogram of time_per_output_token_seconds per request.", labels_);
  e2e_.render(out, "vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.", labels_);
  queue_.render(out, "vllm:request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.",
                labels_);
  inference_.render(out, "vllm:request_inference_time_seconds",
                    "Histogram of time spent in RUNNING phase for request.", labels_);
  prefill_.render(out, "vllm:request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.",
                  labels_);
  decode_.render(out, "vllm:request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.",
                 labels_);
  return out;
}

}  // namespace servetwin::live
