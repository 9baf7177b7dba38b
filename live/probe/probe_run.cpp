#include "live/probe/probe_run.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "live/common/engine_info.hpp"
#include "live/common/http_get.hpp"
#include "live/load/metrics_scraper.hpp"
#include "live/load/runner.hpp"
#include "live/probe/probe_design.hpp"
#include "sim/core/path_check.hpp"
#include "sim/formats/live_run_reader.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/workload/dataset.hpp"

namespace servetwin::live {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct HostPort {
  std::string host, port;
};

HostPort split_host_port(const std::string& s, const char* what) {
  const std::size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
    throw ProbeUsageError(fmt::format("{} '{}': expected HOST:PORT", what, s));
  return {s.substr(0, colon), s.substr(colon + 1)};
}

json record_json(const RequestRecord& r, bool warmup) {
  return {{"input_tokens", r.input_tokens}, {"output_tokens", r.output_tokens}, {"arrival_ns", r.arrival_ns},
          {"first_token_ns", r.first_token_ns}, {"finish_ns", r.finish_ns}, {"status", to_string(r.status)},
          {"error", r.error}, {"warmup", warmup}};
}

// vLLM's cache_config_info gauge carries the KV cache's shape as labels.
json cache_config(const std::string& metrics_text) {
  json out = json::object();
  const std::string key = "vllm:cache_config_info{";
  const std::size_t at = metrics_text.find(key);
  if (at == std::string::npos) return out;
  const std::size_t end = metrics_text.find('}', at);
  const std::string labels = metrics_text.substr(at + key.size(), end - at - key.size());
  for (const char* name : {"block_size", "num_gpu_blocks", "num_cpu_blocks", "enable_prefix_caching", "cache_dtype"}) {
    const std::string k = std::string(name) + "=\"";
    const std::size_t p = labels.find(k);
    if (p == std::string::npos) continue;
    const std::size_t q = labels.find('"', p + k.size());
    out[name] = labels.substr(p + k.size(), q - p - k.size());
  }
  return out;
}

// Words per prompt of the length check.
constexpr double kCheckWords = 100;

// Median of the idle TTFT and of the inter-token time of the length-check requests.
struct FirstLook {
  double tokens_per_word = 1, ttft_s = 0, itl_s = 0;
};

class Prober {
 public:
  Prober(const ProbeOptions& o, const std::atomic<bool>* stop) : o_(o), outer_stop_(stop) {}
  int run();

 private:
  // One runner over one stage; appends its records to doc_["phases"] and rewrites probe.json.
  bool run_stage(const ProbePhase& p, const Dataset& ds, int concurrency, std::int64_t requests, std::int64_t warmup,
                 int pass = -1);
  bool run_decode_passes(const std::vector<ProbePhase>& phases, int passes, const FirstLook& look);
  void describe_server();
  int run_design(const FirstLook& look);
  void save() const { write_json_file(o_.out, doc_); }
  [[nodiscard]] double elapsed_s() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  void fail(const std::string& reason) {
    doc_["complete"] = false;
    doc_["partial_reason"] = reason;
    save();
  }

  ProbeOptions o_;
  const std::atomic<bool>* outer_stop_;
  std::atomic<bool> stop_{false};
  Clock::time_point start_ = Clock::now();
  json doc_;
  Protocol protocol_ = Protocol::kTgis;
  std::string target_;
  Dataset reference_;  // --reference-dataset (empty: no reference phase)
};

bool Prober::run_stage(const ProbePhase& p, const Dataset& ds, int concurrency, std::int64_t requests, std::int64_t warmup,
                       int pass) {
  LoadConfig c;
  c.target = target_;
  c.protocol = protocol_;
  c.model_id = o_.model_id;
  c.dataset_path = "(calibrate probe: " + ds.name + ")";
  if (concurrency > 0) {
    c.concurrency = {concurrency};
  } else {
    c.rates = {p.burst_rate_per_s};
    c.arrival = "constant";
  }
  c.requests = requests;
  c.warmup_requests = warmup;
  c.timeout_s = o_.request_timeout_s;
  c.ready_timeout_s = 30;
  c.progress = false;
  c.poll_threads = 1;
  c.seed = o_.seed;
  const std::string stage = (concurrency > 0 ? fmt::format("c{}", concurrency) : "burst") + (pass >= 0 ? fmt::format("-p{}", pass) : "");
  c.out_dir = o_.out.string() + ".d/" + p.name + "-" + stage;
  LoadRunner runner(c, ds);
  const Clock::time_point run_start = Clock::now();
  const LoadResult res = runner.run(&stop_);
  json rows = json::array();
  std::filesystem::path warm = c.out_dir / "warmup_requests.csv";
  if (check_path(warm).exists)
    for (const auto& r : read_request_csv(warm)) rows.push_back(record_json(r, true));
  for (const auto& r : res.records) rows.push_back(record_json(r.rec, false));
  json entry = {{"phase", p.name}, {"purpose", p.purpose}, {"concurrency", concurrency},
                {"burst_rate_per_s", concurrency > 0 ? 0.0 : p.burst_rate_per_s},
                {"output_tokens", p.output_tokens}, {"dir", c.out_dir.string()},
                {"partial", res.partial}, {"requests", rows}};
  if (pass >= 0) {
    entry["pass"] = pass;
    entry["start_s"] = std::chrono::duration<double>(run_start - start_).count();  // since the probe began
  }
  doc_["phases"].push_back(std::move(entry));
  std::int64_t ok = 0;
  for (const auto& r : res.records) ok += r.rec.status == RequestStatus::kOk ? 1 : 0;
  std::cerr << fmt::format("calibrate probe: {} {} — {} of {} requests ok ({:.0f} s elapsed)\n", p.name, stage, ok,
                           res.records.size(), elapsed_s());
  save();
  if (res.partial) {
    fail(fmt::format("{} {}: {}", p.name, stage, res.partial_reason));
    return false;
  }
  return true;
}

FirstLook first_look(const json& phase, double words) {
  FirstLook f;
  double in = 0, ttft = 0, itl = 0;
  int n = 0;
  for (const auto& r : phase["requests"]) {
    if (r["warmup"].get<bool>() || r["status"] != "ok") continue;
    in += r["input_tokens"].get<double>();
    ttft += (r["first_token_ns"].get<double>() - r["arrival_ns"].get<double>()) / 1e9;
    const double out = r["output_tokens"].get<double>();
    if (out > 1) itl += (r["finish_ns"].get<double>() - r["first_token_ns"].get<double>()) / 1e9 / (out - 1);
    ++n;
  }
  if (n == 0) return f;
  f.tokens_per_word = in / n / words;
  f.ttft_s = ttft / n;
  f.itl_s = itl / n;
  return f;
}

// What the server says about itself (engine, KV cache shape, context length): probe.json's header.
void Prober::describe_server() {
  const HostPort target_hp = split_host_port(o_.target, "--target");
  std::string metrics_url = o_.metrics_url;
  if (metrics_url.empty() && protocol_ == Protocol::kOpenaiCompletions) metrics_url = "http://" + o_.target + "/metrics";
  HostPort info_hp;
  if (protocol_ == Protocol::kOpenaiCompletions) info_hp = target_hp;
  else if (!metrics_url.empty()) info_hp = split_host_port(metrics_url.substr(7, metrics_url.find('/', 7) - 7), "--metrics-url");
  const json engine = query_engine_info(info_hp.host, info_hp.port, o_.engine_name);
  json cache = json::object();
  if (!metrics_url.empty()) {
    const std::string hp = metrics_url.substr(7, metrics_url.find('/', 7) - 7);
    const HostPort m = split_host_port(hp, "--metrics-url");
    const auto path = metrics_url.find('/', 7) == std::string::npos ? std::string("/metrics") : metrics_url.substr(metrics_url.find('/', 7));
    const HttpGetResult r = http_get(m.host, m.port, path, 5);
    if (r.status == 200) cache = cache_config(r.body);
  }
  std::int64_t max_context = o_.max_context_tokens;
  if (max_context <= 0) max_context = engine.contains("max_model_len") && engine["max_model_len"].is_number_integer()
                                          ? engine["max_model_len"].get<std::int64_t>() : 2048;
  doc_ = {{"schema", "servetwin.probe.v1"}, {"target", o_.target}, {"protocol", o_.protocol},
          {"model_id", o_.model_id}, {"budget_s", o_.budget_s}, {"server_engine", engine},
          {"server_cache_config", cache}, {"metrics_url", metrics_url}, {"max_context_tokens", max_context},
          {"complete", false}, {"partial_reason", "running"}, {"phases", json::array()}};
  std::filesystem::create_directories(std::filesystem::absolute(o_.out).parent_path());
  save();
}

// The interleaved decode stages (probe_design.hpp): `passes` passes, each one round of every stage. A
// stage's prompts are fresh in every round (seeded by stage and pass: no prefix-cache hits); the
// reference phase takes the next sample of --reference-dataset.
bool Prober::run_decode_passes(const std::vector<ProbePhase>& phases, int passes, const FirstLook& look) {
  for (const DecodeRound& r : interleaved_decode_schedule(phases, passes)) {
    const ProbePhase& p = phases[r.phase];
    const int c = p.concurrency[r.stage];
    const std::int64_t warmup = r.warmup ? c : 0;
    Dataset s;
    if (p.name == "reference") {
      s = reference_;
      s.samples = {reference_.samples[static_cast<std::size_t>(r.pass) % reference_.samples.size()]};
    } else {
      const std::vector<std::int64_t> lengths = r.stage < p.per_stage_input_tokens.size()
                                                    ? std::vector<std::int64_t>{p.per_stage_input_tokens[r.stage]} : p.input_tokens;
      // Each user walks the dataset in its own seeded order: a large set keeps two users of a round off one
      // prompt (a prefix-cache hit) about as rarely as the stage-long sets before the interleaving.
      const std::int64_t count = std::max<std::int64_t>(64, 4 * (c + warmup));
      s = make_probe_dataset(p.name, lengths, count, p.output_tokens, look.tokens_per_word,
                             o_.seed + static_cast<std::uint64_t>(c) * 101U + p.name.size() + static_cast<std::uint64_t>(r.pass) * 7919U);
    }
    if (!run_stage(p, s, c, c, warmup, r.pass)) return false;
  }
  return true;
}

// The designed phases, scaled to what is left of the budget after the length check; the decode stages
// interleaved in as many passes as the budget's span share pays for.
int Prober::run_design(const FirstLook& look) {
  ProbeDesignOptions d;
  d.max_context_tokens = doc_["max_context_tokens"].get<std::int64_t>();
  d.max_concurrency = o_.max_concurrency;
  d.burst_requests = o_.burst_requests;
  const json& cache = doc_["server_cache_config"];
  if (cache.contains("num_gpu_blocks") && cache.contains("block_size")) {
    d.kv_block_tokens = std::stoll(cache["block_size"].get<std::string>());
    d.kv_tokens = std::stoll(cache["num_gpu_blocks"].get<std::string>()) * d.kv_block_tokens;
  }
  if (!reference_.samples.empty()) {
    d.reference_input_tokens = std::max<std::int64_t>(1, reference_.samples.front().input_tokens);
    d.reference_output_tokens = std::max<std::int64_t>(2, reference_.samples.front().output_tokens);
  }
  const double prefill_s_per_token = look.ttft_s / std::max(1.0, kCheckWords * look.tokens_per_word);
  const double full_s = estimate_probe_s(design_probe(d), look.itl_s, prefill_s_per_token, 1.0);
  const double left_s = o_.budget_s - elapsed_s();
  d.scale = std::min(1.0, 0.8 * left_s / std::max(1e-3, full_s));
  ProbeDesignOptions least = d;
  least.scale = 0.0;
  const double least_s = estimate_probe_s(design_probe(least), look.itl_s, prefill_s_per_token, 0.0);
  if (least_s > left_s) {
    const std::string msg = fmt::format(
        "--budget {:.0f}s is too small for this server: at its measured speed (TTFT {:.2f} s for {:.0f} tokens, "
        "{:.0f} ms per output token) the smallest design needs about {:.0f} s more; give --budget {:.0f}s or more",
        o_.budget_s, look.ttft_s, kCheckWords * look.tokens_per_word, 1e3 * look.itl_s, least_s,
        std::ceil(elapsed_s() + least_s / 0.8));
    fail(msg);
    throw ProbeUsageError(msg + " (what was measured is in " + o_.out.string() + ")");
  }
  const std::vector<ProbePhase> phases = design_probe(d);
  const double pass_s = estimate_decode_pass_s(phases, look.itl_s, prefill_s_per_token);
  const double spare_s = 0.8 * left_s - estimate_probe_s(phases, look.itl_s, prefill_s_per_token, d.scale);
  const int passes = decode_passes(d.scale, pass_s, kDecodeSpanShare * left_s, spare_s);
  doc_["design_scale"] = d.scale;
  doc_["decode_order"] = {{"kind", "interleaved"}, {"passes", passes}, {"pass_estimate_s", pass_s},
                          {"span_target_s", kDecodeSpanShare * left_s}};
  bool decode_done = false;
  for (const ProbePhase& p : phases) {
    if (is_interleaved(p)) {
      if (!decode_done && !run_decode_passes(phases, passes, look)) return 1;
      decode_done = true;
      continue;
    }
    // The open-loop burst and the closed-loop stages of a fixed request count (prefill): one runner each.
    if (p.concurrency.empty()) {
      const Dataset b = make_probe_dataset(p.name, p.input_tokens, p.requests_per_stage, p.output_tokens, look.tokens_per_word, o_.seed + 1);
      if (!run_stage(p, b, 0, p.requests_per_stage, 0)) return 1;
      continue;
    }
    for (const int c : p.concurrency) {
      const Dataset s = make_probe_dataset(p.name, p.input_tokens, p.requests_per_stage + p.warmup_per_stage + c, p.output_tokens,
                                           look.tokens_per_word, o_.seed + static_cast<std::uint64_t>(c) * 101U + p.name.size());
      if (!run_stage(p, s, c, p.requests_per_stage, p.warmup_per_stage)) return 1;
    }
  }
  return 0;
}

int Prober::run() {
  if (!(o_.budget_s >= kMinProbeBudgetS))
    throw ProbeUsageError(fmt::format("--budget {:.0f}s is too small: the probe needs at least {:.0f}s (length check, "
                                      "then one stage per phase); allowed: >= {:.0f}s",
                                      o_.budget_s, kMinProbeBudgetS, kMinProbeBudgetS));
  if (o_.protocol == "openai") {
    protocol_ = Protocol::kOpenaiCompletions;
    target_ = "http://" + o_.target;
  } else if (o_.protocol == "tgis" || o_.protocol == "caikit") {
    protocol_ = protocol_from_string(o_.protocol);
    target_ = o_.target;
  } else {
    throw ProbeUsageError("--protocol '" + o_.protocol + "': allowed values: openai, tgis, caikit");
  }
  if (!o_.reference_dataset.empty()) {
    try {
      reference_ = load_dataset(o_.reference_dataset, "");
    } catch (const std::exception& e) {
      throw ProbeUsageError(std::string("--reference-dataset: ") + e.what());
    }
  }
  describe_server();
  // The budget is enforced by a watchdog that stops the current runner (its requests end, the
  // records so far are kept).
  std::thread watchdog([this] {
    while (!stop_.load()) {
      if (elapsed_s() > o_.budget_s || (outer_stop_ != nullptr && outer_stop_->load())) stop_.store(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  struct Join {
    std::thread& t;
    std::atomic<bool>& s;
    ~Join() {
      s.store(true);
      t.join();
    }
  } join{watchdog, stop_};
  const ProbePhase check{"length-check", "tokens per word of the server's tokenizer, first step times", {0}, 8, {1}, 0, 2, 1, {}};
  Dataset ds = make_probe_dataset("length-check", {static_cast<std::int64_t>(kCheckWords)}, 3, 8, 1.0, o_.seed);
  if (!run_stage(check, ds, 1, 2, 1)) return 1;
  const FirstLook look = first_look(doc_["phases"].back(), kCheckWords);
  doc_["tokens_per_word"] = look.tokens_per_word;
  if (const int rc = run_design(look); rc != 0) return rc;
  doc_["complete"] = true;
  doc_["partial_reason"] = "";
  doc_["elapsed_s"] = elapsed_s();
  save();
  std::cerr << fmt::format("calibrate probe: complete in {:.0f} s -> {}\n", elapsed_s(), o_.out.string());
  return 0;
}

}  // namespace

int run_probe(const ProbeOptions& o, const std::atomic<bool>* stop) {
  Prober p(o, stop);
  return p.run();
}

}  // namespace servetwin::live
