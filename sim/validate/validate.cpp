#include "sim/validate/validate.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/engine/serving_sim.hpp"
#include "sim/workload/arrivals.hpp"
#include "sim/validate/distserve_records.hpp"
#include "sim/workload/distserve_trace.hpp"

namespace servetwin {
namespace {

const std::string kEmpty;

// RFC 4180 records: quoted fields may hold commas, doubled quotes and newlines.
std::vector<std::pair<int, std::vector<std::string>>> parse_csv(const std::string& text, const std::string& file) {
  std::vector<std::pair<int, std::vector<std::string>>> out;
  std::vector<std::string> rec;
  std::string field;
  bool quoted = false, any = false;
  int line = 1, rec_line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      rec.push_back(field);
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        rec.push_back(field);
        out.emplace_back(rec_line, rec);
      }
      rec.clear();
      field.clear();
      any = false;
      ++line;
      rec_line = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) throw ConfigError(fmt::format("{}:{}: unterminated quoted field", file, rec_line));
  if (any || !field.empty()) {
    rec.push_back(field);
    out.emplace_back(rec_line, rec);
  }
  return out;
}

std::string row_dataset(const ValidationRow& r) {
  const std::string& id = r.get("source_id");
  return id.substr(0, id.find(':'));
}

std::string lower_ascii(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

// The engine column as written by hand in other people's CSVs ("vLLM", "TensorRT-LLM", "HF TGI"):
// lower-cased, with the common spellings of each modelled engine folded onto its short name.
std::string canonical_engine(const std::string& cell) {
  std::string e = lower_ascii(cell);
  e.erase(std::remove_if(e.begin(), e.end(), [](unsigned char ch) { return std::isspace(ch) != 0; }), e.end());
  if (e == "tensorrt-llm" || e == "tensorrt_llm" || e == "trt-llm" || e == "trt_llm" || e == "tensorrtllm") return "trtllm";
  if (e == "text-generation-inference" || e == "hf-tgi" || e == "hftgi" || e == "huggingface-tgi") return "tgi";
  if (e == "text-generation-inference-server" || e == "ibm-tgis") return "tgis";
  return e;
}

// The schema's load types, also under the spellings other CSVs use ("poisson", "closed", "static").
std::string canonical_load_type(const std::string& cell) {
  std::string t = lower_ascii(cell);
  std::replace(t.begin(), t.end(), '-', '_');
  if (t == "poisson" || t == "poisson_arrivals" || t == "open_loop_poisson" || t == "request_rate") return "poisson_rate";
  if (t == "closed" || t == "closed_loop" || t == "concurrency") return "closed_concurrency";
  if (t == "static" || t == "static_batching") return "static_batch";
  return t;
}

// Major and minor of a version cell ("0.6.3.post1", "v0.10.1rc2"); nullopt when it has no number.
std::optional<std::pair<int, int>> major_minor(const std::string& version) {
  std::smatch m;
  static const std::regex re("^[vV]?([0-9]+)\\.([0-9]+)");
  if (!std::regex_search(version, m, re)) return std::nullopt;
  return std::make_pair(std::stoi(m[1].str()), std::stoi(m[2].str()));
}

std::optional<std::string> note_value(const std::string& notes, const std::string& key) {
  const std::regex re("(^|[ ;(,])" + key + "=([0-9.]+|True|False|true|false)");
  std::smatch m;
  if (std::regex_search(notes, m, re)) return m[2].str();
  return std::nullopt;
}

// Fixed-length requests: `n` at t=0 (offline / static batch).
std::vector<TraceRow> burst_trace(std::int64_t n, std::int64_t in, std::int64_t out) {
  std::vector<TraceRow> rows(static_cast<std::size_t>(n));
  for (auto& r : rows) r = TraceRow{0.0, in, out};
  return rows;
}

// Latency columns read straight off a distribution of the stage metrics: column, distribution, statistic.
struct DistributionColumn {
  const char* col;
  Distribution StageMetrics::*dist;
  double Distribution::*stat;
};
constexpr DistributionColumn kDistributionColumns[] = {
    {"ttft_mean_ms", &StageMetrics::ttft_ms, &Distribution::mean},
    {"ttft_p50_ms", &StageMetrics::ttft_ms, &Distribution::p50},
    {"ttft_p90_ms", &StageMetrics::ttft_ms, &Distribution::p90},
    {"ttft_p95_ms", &StageMetrics::ttft_ms, &Distribution::p95},
    {"ttft_p99_ms", &StageMetrics::ttft_ms, &Distribution::p99},
    {"tpot_mean_ms", &StageMetrics::tpot_ms, &Distribution::mean},
    {"tpot_p50_ms", &StageMetrics::tpot_ms, &Distribution::p50},
    {"tpot_p90_ms", &StageMetrics::tpot_ms, &Distribution::p90},
    {"tpot_p95_ms", &StageMetrics::tpot_ms, &Distribution::p95},
    {"tpot_p99_ms", &StageMetrics::tpot_ms, &Distribution::p99},
    {"e2e_mean_ms", &StageMetrics::e2e_ms, &Distribution::mean},
    {"e2e_p50_ms", &StageMetrics::e2e_ms, &Distribution::p50},
    {"e2e_p90_ms", &StageMetrics::e2e_ms, &Distribution::p90},
    {"e2e_p95_ms", &StageMetrics::e2e_ms, &Distribution::p95},
    {"e2e_p99_ms", &StageMetrics::e2e_ms, &Distribution::p99},
    {"latency_per_token_median_ms", &StageMetrics::latency_per_token_ms, &Distribution::p50},
};

double predicted_metric(const std::string& col, const StageMetrics& m, bool per_request_itl) {
  if (col == "throughput_output_tok_s") return m.throughput_output_tok_s;
  if (col == "throughput_total_tok_s") return m.throughput_total_tok_s;
  if (col == "request_rate_achieved") return m.request_rate_achieved;
  if (col == "itl_mean_ms") return per_request_itl ? m.tpot_ms.mean : m.itl_mean_ms;
  for (const auto& d : kDistributionColumns) {
    if (col == d.col) return m.*d.dist.*d.stat;
  }
  throw std::logic_error("validate: no prediction for metric " + col);
}

// The request count a row's description states ("..., 30000 requests"), if any.
std::optional<std::int64_t> stated_request_count(const ValidationRow& row) {
  std::smatch m;
  const std::string& desc = row.get("input_tokens_desc");
  if (!std::regex_search(desc, m, std::regex("([0-9]+) requests"))) return std::nullopt;
  return std::stoll(m[1].str());
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

nlohmann::json error_summary(const std::vector<double>& signed_errors) {
  std::vector<double> ape;
  double sum_ape = 0, sum = 0;
  for (const double e : signed_errors) {
    ape.push_back(std::abs(e));
    sum_ape += std::abs(e);
    sum += e;
  }
  const double n = static_cast<double>(signed_errors.size());
  return {{"n", signed_errors.size()}, {"median_ape", median_of(ape)}, {"mean_ape", sum_ape / n}, {"bias", sum / n}};
}

const std::string& ValidationRow::get(const std::string& col) const {
  auto it = cells.find(col);
  return it == cells.end() ? kEmpty : it->second;
}

std::optional<double> ValidationRow::number(const std::string& col) const {
  const std::string& s = get(col);
  if (s.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw ConfigError(fmt::format("{}:{}: column '{}': '{}' is not a number", file, line, col, s));
  }
}

const std::vector<std::string>& validation_metric_columns() {
  static const std::vector<std::string> cols = {
      "throughput_output_tok_s", "throughput_total_tok_s", "request_rate_achieved", "ttft_mean_ms", "ttft_p50_ms",
      "ttft_p90_ms",             "ttft_p99_ms",            "itl_mean_ms",           "tpot_mean_ms", "e2e_mean_ms",
      "e2e_p50_ms",              "e2e_p99_ms",             "latency_per_token_median_ms"};
  return cols;
}

const std::vector<std::string>& extra_metric_columns() {
  static const std::vector<std::string> cols = {"ttft_p95_ms", "tpot_p50_ms", "tpot_p90_ms", "tpot_p95_ms",
                                                "tpot_p99_ms", "e2e_p90_ms",  "e2e_p95_ms",  "usd_per_1m_tokens"};
  return cols;
}

const std::vector<std::string>& descriptive_columns() {
  static const std::vector<std::string> cols = {
      "source_id",  "source",      "model",         "gpu",        "num_gpus",          "tp",
      "precision",  "engine",      "engine_version", "instance",  "workload",          "input_tokens_mean",
      "output_tokens_mean", "input_tokens_desc", "load_type", "load_value", "duration_s", "tpot_def", "notes",
      "instance_usd_per_h"};
  return cols;
}

std::vector<ValidationRow> read_validation_csv(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ConfigError(fmt::format("{}: cannot open", path.string()));
  std::stringstream ss;
  ss << f.rdbuf();
  const auto records = parse_csv(ss.str(), path.string());
  if (records.empty()) throw ConfigError(fmt::format("{}: empty file (expected a header row)", path.string()));
  const auto& header = records.front().second;
  for (const char* req : {"source_id", "model", "gpu", "load_type"}) {
    if (std::find(header.begin(), header.end(), req) == header.end()) {
      throw ConfigError(fmt::format("{}:1: required column '{}' missing; the schema is in "
                                    "validation/published/README.md",
                                    path.string(), req));
    }
  }
  std::vector<ValidationRow> rows;
  for (std::size_t i = 1; i < records.size(); ++i) {
    const auto& [line, rec] = records[i];
    if (rec.size() != header.size()) {
      throw ConfigError(fmt::format("{}:{}: {} fields, header has {}", path.string(), line, rec.size(), header.size()));
    }
    ValidationRow r;
    r.file = path.filename().string();
    r.line = line;
    for (std::size_t c = 0; c < header.size(); ++c) r.cells[header[c]] = rec[c];
    for (const auto& col : validation_metric_columns()) (void)r.number(col);  // malformed numbers fail early
    for (const auto& col : extra_metric_columns()) (void)r.number(col);
    rows.push_back(std::move(r));
  }
  return rows;
}

const std::vector<std::string>& known_fit_sets() {
  static const std::vector<std::string> sets = {"none", "blis_trainval", "seed_redhat_g5", "distserve_rate2",
                                                "splitwise_h100_llama_b1"};
  return sets;
}

bool row_in_fit_set(const std::string& fit_set, const ValidationRow& row) {
  if (fit_set == "none") return false;
  // BLIS fitted its latency coefficients on its train/val experiments; those rows cite
  // results_trainval/error_records.csv, the held-out evaluation rows results_iter36.
  if (fit_set == "blis_trainval") {
    return row_dataset(row) == "blis_s2r" && row.get("source").find("results_trainval") != std::string::npos;
  }
  // The TGIS preset's g5 dispatch cost was fitted on the seed article's g5 rows (the p4d row is not
  // in the fit: its value comes from an independent measurement).
  if (fit_set == "seed_redhat_g5") {
    return row_dataset(row) == "redhat_tgis" && row.get("instance").rfind("g5.", 0) == 0;
  }
  // The DistServe vLLM preset's per-step CPU time was fitted on the two 2 req/s runs (vllm-100-2,
  // vllm-200-2); the other six runs, the queueing knee between 2.5 and 3 req/s among them, are scored.
  if (fit_set == "distserve_rate2") {
    const std::string id = row.get("source_id");
    return row_dataset(row) == "distserve" &&
           (id.size() >= 10 && (id.compare(id.size() - 10, 10, "vllm-100-2") == 0 ||
                                id.compare(id.size() - 10, 10, "vllm-200-2") == 0));
  }
  // The 2023 vLLM preset's per-layer dispatch time was fitted on Splitwise's H100 Llama-2-70B
  // prompt sweep at batch 1 (the rows where the step is CPU-bound); the A100 rows, the batch sweeps
  // and BLOOM-176B are scored.
  if (fit_set == "splitwise_h100_llama_b1") {
    const std::string& id = row.get("source_id");
    return row_dataset(row) == "splitwise" && id.find(":llama2-70b:h100-80gb:") != std::string::npos &&
           id.find(":b1:") != std::string::npos;
  }
  throw ConfigError(fmt::format("unknown fit set '{}'; known: {}", fit_set, fmt::join(known_fit_sets(), ", ")));
}

namespace {

// A DistServe vLLM preset that pads prompt batches (v0.2.2-0.3.3) runs a row without the rule when
// the row's own per-request records show a prefill step with more pad tokens than the rule allows:
// that run came from the v0.1.7 branch head (distserve_records.hpp). No records, or no
// prefill step holding two prompts, leaves the preset as it is.
void apply_prefill_batch_fingerprint(const EngineSpec& spec, const std::filesystem::path& records,
                                     DeploymentConfig& d, RowMapping& m) {
  // The engine's own reading of the two settings (preset, then the row's overrides).
  EngineSettings settings(spec, d.engine_set);
  if (!settings.flag("prefill_padding", false) || !std::filesystem::exists(records)) return;
  const std::int64_t max_paddings = settings.integer("max_paddings", 256, 0, 100000000);
  const PrefillBatchFingerprint fp = fingerprint_prefill_batches(read_distserve_records(records));
  const bool rule_broken = fp.max_pad_tokens > max_paddings;
  if (rule_broken) d.engine_set["prefill_padding"] = "false";
  m.engine_evidence = fmt::format(
      "{}: {} prefill steps with more than one prompt, at most {} pad tokens ({} max_paddings {}): {}",
      records.filename().string(), fp.batches, fp.max_pad_tokens, rule_broken ? ">" : "<=", max_paddings,
      rule_broken ? "ran without the padded-batch rule (v0.1.7), prefill_padding=false" : "consistent with the preset");
}

}  // namespace

RowMapping map_row(const Catalog& catalog, const ValidationRow& row, const std::filesystem::path& data_dir) {
  RowMapping m;
  auto unsupported = [&](std::string why) {
    m.scenario.reset();
    m.reason = std::move(why);
    return m;
  };
  const std::string dataset = row_dataset(row);
  const std::string& model = row.get("model");
  if (model.empty() || !catalog.has_model(model)) {
    return unsupported(fmt::format("model '{}' is not in the catalog (configs/models)", model));
  }
  const std::string& gpu_col = row.get("gpu");
  if (gpu_col.empty() || !catalog.has_gpu(gpu_col)) {
    return unsupported(fmt::format("GPU '{}' is not in the catalog (configs/gpus)", gpu_col));
  }
  const GpuSpec& gpu = catalog.gpu(gpu_col);
  if (!catalog.has_profile(gpu.name)) {
    return unsupported(fmt::format("no hardware profile for GPU {} (configs/profiles): its cost-model efficiencies "
                                   "are not calibrated",
                                   gpu.name));
  }
  const std::string engine = canonical_engine(row.get("engine"));
  const std::string& version = row.get("engine_version");
  const std::string load_type = canonical_load_type(row.get("load_type"));
  const std::string& notes = row.get("notes");
  const bool online = load_type == "poisson_rate" || load_type == "closed_concurrency";

  // Engine preset by engine, version era and load type.
  std::string preset;
  if (engine == "tgis") {
    preset = "tgis-rhoai-2024q1";
  } else if (engine == "tgi") {
    preset = "tgi-1.0";
  } else if (engine == "vllm") {
    // Eras (vllm_scheduling.md §0-§2): 0.1-0.3 V0 without CUDA graphs (before 0.2.6) or chunked
    // prefill; 0.4-0.7 V0 with CUDA graphs; 0.8 on the V1 engine. An unparsable version is a reason.
    const auto mm = major_minor(version);
    if (dataset == "distserve") {
      preset = "vllm-0.2-distserve";
    } else if (version.empty()) {
      preset = "vllm-0.15";
    } else if (!mm) {
      return unsupported(fmt::format("vLLM version '{}' is not a version number (e.g. 0.6.3)", version));
    } else if (mm->first == 0 && mm->second <= 3) {
      preset = "vllm-0.2-distserve";
    } else if (mm->first == 0 && mm->second <= 7) {
      preset = "vllm-0.6-v0";
    } else {
      preset = "vllm-0.15";
    }
  } else if (dataset == "splitwise" && engine.empty() && load_type == "static_batch") {
    // Splitwise's profiles came from a vLLM-based characterization (hardware_and_models.md §4.4),
    // in 2023: the V0-era eager runtime, not a C++ session runtime.
    preset = "vllm-static-eager-2023";
  } else if (engine == "trtllm" || engine.empty()) {
    // TensorRT-LLM's in-flight batching (the same preset offline and under online arrivals); its
    // static-batch benchmark (gptSessionBenchmark) runs one batch to completion.
    if (load_type == "offline" || (engine == "trtllm" && online)) {
      preset = "vllm-offline-trtllm1";
    } else if (load_type == "static_batch") {
      preset = "vllm-static-batch";
    } else {
      return unsupported(fmt::format("engine '{}' with load type '{}' has no engine model", engine, load_type));
    }
  } else {
    return unsupported(fmt::format("engine '{}' is not modelled (tgis, tgi, vllm, trtllm; unstated only for "
                                   "offline and static-batch rows)",
                                   row.get("engine")));
  }
  if (!catalog.has_engine(preset)) return unsupported("engine preset '" + preset + "' missing from configs/engines");
  const EngineSpec& spec = catalog.engine(preset);
  m.engine_preset = preset;
  m.engine_preset_version = spec.version;
  auto fit_it = spec.text_settings.find("fitted_on");
  m.fit_set = fit_it == spec.text_settings.end() ? "none" : fit_it->second;
  m.in_fit_set = row_in_fit_set(m.fit_set, row);

  Scenario s;
  s.name = row.get("source_id");
  s.seed = 42;
  DeploymentConfig& d = s.deployment;
  d.model = model;
  d.engine = preset;
  if (!row.get("instance").empty() && catalog.has_instance(row.get("instance"))) {
    d.instance = row.get("instance");
  } else {
    d.gpu = gpu.name;
  }
  d.num_gpus = static_cast<int>(row.number("num_gpus").value_or(0));
  d.tp = static_cast<int>(row.number("tp").value_or(0));
  // Data parallelism: num_gpus = k x tp serves k independent replicas behind a round-robin balancer.
  // One replica is simulated with 1/k of the load (random or round-robin splitting of a Poisson stream
  // keeps it Poisson at rate/k; k-th of the users, requests or batch), on its own GPUs (the instance's
  // interconnect is then not used between replicas).
  if (d.tp > 0 && d.num_gpus > d.tp) {
    if (d.num_gpus % d.tp != 0) {
      return unsupported(fmt::format("num_gpus {} is not a multiple of tp {} (only TP x data-parallel replicas are "
                                     "modelled)",
                                     d.num_gpus, d.tp));
    }
    m.replicas = d.num_gpus / d.tp;
    d.num_gpus = d.tp;
    d.instance.clear();
    d.gpu = gpu.name;
  }
  const double k = static_cast<double>(m.replicas);
  // Weights precision: unstated means the checkpoint's 16-bit weights. A precision the cost model has
  // no datapath for (fp4, int4, int8, ...) is a reason, not a silent fp16 run.
  const std::string precision = lower_ascii(row.get("precision"));
  // 16-bit spellings; "auto" is the checkpoint's own 16-bit dtype; every FP8 variant (e4m3, dynamic,
  // w8a8-fp8) runs the FP8 datapath.
  if (precision.empty() || precision == "fp16" || precision == "float16" || precision == "half" ||
      precision == "auto") {
    d.dtype = "fp16";
  } else if (precision == "bf16" || precision == "bfloat16") {
    d.dtype = "bf16";
  } else if (precision.find("fp8") != std::string::npos || precision == "float8") {
    d.dtype = "fp8";
  } else {
    return unsupported(fmt::format("precision '{}' is not modelled (fp16, bf16, fp8)", row.get("precision")));
  }
  if (d.dtype == "fp8" && gpu.peak_fp8_flops <= 0) return unsupported("fp8 on a GPU without FP8 tensor cores");
  // TensorRT-LLM performance.md (trtllm_perf_md rows): "H100 and L40S engines use FP8 weights and FP8 KV
  // cache" (validation/published/README.md, trtllm_static.csv (b)).
  if (dataset == "trtllm_perf_md" && d.dtype == "fp8") d.engine_set["kv_cache_dtype"] = "fp8";
  // The in-flight preset's FP8 KV cache is inferred for FP8 checkpoints (its source); a 16-bit
  // deployment keeps a 16-bit cache unless the row says otherwise.
  if (preset == "vllm-offline-trtllm1" && d.dtype != "fp8") d.engine_set["kv_cache_dtype"] = "auto";

  // An offline vLLM V1 run (vllm bench throughput) goes through the `LLM` class, whose default limits
  // differ from the API server's (vllm_scheduling.md §2).
  if (preset == "vllm-0.15" && load_type == "offline") d.engine_set["default_limits"] = "v1_offline";
  if (spec.engine == "vllm") {
    for (const char* key : {"max_num_batched_tokens", "max_num_seqs", "max_model_len", "gpu_memory_utilization"}) {
      if (auto v = note_value(notes, key)) d.engine_set[key] = *v;
    }
    if (auto off = note_value(notes, "cpu_offload"); off && (*off == "True" || *off == "true")) {
      // vLLM OffloadingConnector with 8 GiB of host memory (README: cpu_offload=True rows).
      d.engine_set["kv_cpu_offload_bytes"] = fmt::format("{}", 8.0 * 1024 * 1024 * 1024);
    }
  }

  const auto in_mean = row.number("input_tokens_mean");
  const auto out_mean = row.number("output_tokens_mean");
  auto load_value = row.number("load_value");
  if (load_value && m.replicas > 1) {
    // Per replica. Users, requests and batches must split evenly (else the replicas differ).
    if (load_type != "poisson_rate" && std::fmod(*load_value, k) != 0) {
      return unsupported(fmt::format("load_value {} does not split evenly over {} data-parallel replicas", *load_value,
                                     m.replicas));
    }
    *load_value /= k;
  }
  const auto duration = row.number("duration_s");
  const std::string& workload = row.get("workload");

  if (load_type == "poisson_rate") {
    if (!load_value) return unsupported("poisson_rate row without load_value");
    // DistServe rows replay their own per-request file when it sits next to the CSV's folder
    // (../distserve/...); without it they fall through to Poisson arrivals with the mean lengths.
    const std::string& id = row.get("source_id");
    const auto replay = data_dir / ".." / "distserve" / "opt-13b-sharegpt-workload" /
                        (id.substr(id.rfind(':') + 1) + ".exp");
    const bool distserve_trace = dataset == "distserve" && workload == "sharegpt";
    const bool have_replay = distserve_trace && std::filesystem::exists(replay);
    if (distserve_trace && !have_replay && !(in_mean && out_mean && duration)) {
      return unsupported("DistServe replay file not found (and no mean lengths/duration to fall back on): " +
                         replay.lexically_normal().string());
    }
    if (have_replay) {
      s.trace_rows = load_distserve_workload(replay);
      apply_prefill_batch_fingerprint(spec, data_dir / ".." / "distserve" / "opt-13b-sharegpt" / replay.filename(), d, m);
      if (m.replicas > 1) {  // round-robin: every k-th request goes to the simulated replica
        std::vector<TraceRow> mine;
        for (std::size_t i = 0; i < s.trace_rows.size(); i += static_cast<std::size_t>(m.replicas)) {
          mine.push_back(s.trace_rows[i]);
        }
        s.trace_rows = std::move(mine);
      }
      s.load.type = "trace";
      s.load.levels = {0};
      s.duration_s = 1e9;  // a replay runs to its last completion
    } else if (!workload.empty() && catalog.has_workload(workload) &&
               catalog.workload(workload).kind != "dataset") {
      s.workload = workload;
      s.load.type = "open";
      s.load.levels = {*load_value};
      s.load.arrival = "poisson";
      if (!duration) return unsupported("poisson_rate row without duration_s");
      s.duration_s = *duration;
    } else if (in_mean && out_mean && duration) {
      // An unseen workload: Poisson arrivals with the row's mean lengths, fixed. A row whose description
      // states its request count ("..., 100 requests") gets exactly that many (its duration_s may include
      // the drain after the last arrival, as DistServe's does); otherwise arrivals span duration_s.
      ArrivalProcess arrivals(ArrivalSpec{"poisson", *load_value, 1}, make_rng(s.seed, "validate-arrivals", 0));
      TimeNs t = 0;
      const TimeNs end = seconds_to_ns(*duration);
      const auto stated = stated_request_count(row);
      const std::int64_t count = stated ? std::max<std::int64_t>(1, *stated / m.replicas) : -1;
      while (count >= 0 ? static_cast<std::int64_t>(s.trace_rows.size()) < count : t < end) {
        s.trace_rows.push_back(TraceRow{ns_to_seconds(t), std::llround(*in_mean), std::max<std::int64_t>(1, std::llround(*out_mean))});
        t += arrivals.next_gap_ns();
      }
      s.load.type = "trace";
      s.load.levels = {0};
      s.duration_s = 1e9;
    } else {
      return unsupported(fmt::format("workload '{}' is not in the catalog and the row lacks mean lengths/duration", workload));
    }
  } else if (load_type == "closed_concurrency") {
    if (!load_value || !duration) return unsupported("closed_concurrency row without load_value or duration_s");
    if (!workload.empty() && catalog.has_workload(workload)) {
      s.workload = workload;
    } else if (in_mean && out_mean && *in_mean >= 1 && *out_mean >= 1) {
      // Not a catalog workload: every request gets the row's mean lengths (as the poisson rows do).
      s.fixed_input_tokens = std::llround(*in_mean);
      s.fixed_output_tokens = std::llround(*out_mean);
    } else {
      return unsupported(fmt::format("closed loop needs a catalog workload or input/output token means; '{}' is "
                                     "not a catalog workload",
                                     workload));
    }
    s.load.type = "closed";
    s.load.levels = {*load_value};
    s.duration_s = *duration;
  } else if (load_type == "offline") {
    if (!in_mean || !out_mean) return unsupported("offline row without input/output token means");
    // The request count is in the description ("..., 30000 requests"); without it, 1000.
    const std::int64_t n = std::max<std::int64_t>(1, stated_request_count(row).value_or(1000) / m.replicas);
    s.trace_rows = burst_trace(n, std::llround(*in_mean), std::llround(*out_mean));
    s.load.type = "trace";
    s.load.levels = {0};
    s.duration_s = 1e9;
  } else if (load_type == "static_batch") {
    if (!in_mean || !out_mean || !load_value) return unsupported("static_batch row without lengths or batch size");
    const auto bs = static_cast<std::int64_t>(*load_value);
    if (spec.engine == "vllm") {
      d.engine_set["max_num_seqs"] = std::to_string(bs);
      // The measured system ran these lengths (e.g. Splitwise's 8,192-token Llama-2 prompts), so the
      // context limit is the row's own length, not the model's configured maximum.
      d.engine_set["max_model_len"] = std::to_string(std::llround(*in_mean) + std::llround(*out_mean) + 1);
      // The activation reserve of a static batch is its own prefill pass.
      d.engine_set["max_num_batched_tokens"] = std::to_string(std::max<std::int64_t>(1, bs * std::llround(*in_mean)));
    }
    // Other engines (TGIS, TGI) get the batch as a burst at t=0 and batch it by their own rules.
    s.trace_rows = burst_trace(bs, std::llround(*in_mean), std::llround(*out_mean));
    s.load.type = "trace";
    s.load.levels = {0};
    s.duration_s = 1e9;
  } else {
    return unsupported(fmt::format("load_type '{}' is not modelled", load_type));
  }

  // inference-perf reports ITL as each request's mean gap, averaged over requests (= per-request
  // TPOT); vLLM bench pools all gaps (README "TPOT definitions differ").
  const bool per_request_itl = notes.find("inference-perf") != std::string::npos;
  for (const auto& col : validation_metric_columns()) {
    if (!row.get(col).empty()) {
      m.metric_source[col] = col == "itl_mean_ms" ? (per_request_itl ? "per-request mean gap (inference-perf)"
                                                                    : "pooled gaps (vLLM bench)")
                                                  : col;
    }
  }
  for (const auto& col : extra_metric_columns()) {
    if (!row.get(col).empty() && col != "usd_per_1m_tokens") m.metric_source[col] = col;
  }
  // Cost per 1M output tokens = price per hour / output tokens per hour. Priced at the row's own
  // price when it has one, so the comparison isolates the throughput prediction from price changes.
  if (!row.get("usd_per_1m_tokens").empty()) {
    const std::string& inst = row.get("instance");
    if (auto p = row.number("instance_usd_per_h"); p && *p > 0) {
      m.usd_per_h = *p;
      m.metric_source["usd_per_1m_tokens"] = "predicted output tok/s priced at the row's instance_usd_per_h";
    } else if (!inst.empty() && catalog.has_instance(inst) && catalog.instance(inst).on_demand.has_price) {
      m.usd_per_h = catalog.instance(inst).on_demand.usd_per_hour;
      m.metric_source["usd_per_1m_tokens"] = "predicted output tok/s priced at the catalog's on-demand price";
    }
  }
  try {
    m.scenario = resolve_scenario(catalog, s);
  } catch (const ConfigError& e) {
    return unsupported(std::string("scenario does not resolve: ") + e.what());
  }
  return m;
}

nlohmann::json run_validation(const Catalog& catalog, const ValidateOptions& opts) {
  struct Item {
    ValidationRow row;
    RowMapping map;
    std::optional<StageResult> result;
    std::string run_error;
  };
  std::vector<Item> items;
  std::vector<std::string> files;
  std::map<std::string, std::vector<std::string>> not_compared;  // file -> columns validate does not know
  for (const auto& p : opts.data) {
    auto rows = read_validation_csv(p);
    files.push_back(p.filename().string());
    if (!rows.empty()) {
      auto& nc = not_compared[p.filename().string()];
      for (const auto& cell : rows.front().cells) {
        const std::string& col = cell.first;
        auto known = [&col](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), col) != v.end(); };
        if (!known(validation_metric_columns()) && !known(extra_metric_columns()) && !known(descriptive_columns())) {
          nc.push_back(col);
        }
      }
    }
    const auto dir = p.parent_path().empty() ? std::filesystem::path(".") : p.parent_path();
    for (auto& r : rows) {
      Item it;
      it.map = map_row(catalog, r, dir);
      it.row = std::move(r);
      items.push_back(std::move(it));
    }
  }
  std::atomic<std::size_t> next{0}, done{0};
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= items.size()) return;
      Item& it = items[i];
      if (it.map.scenario) {
        try {
          it.result = run_stage(catalog, *it.map.scenario, 0, false);
        } catch (const std::exception& e) {
          it.run_error = e.what();
        }
      }
      ++done;
    }
  };
  const int n = std::max(1, opts.jobs);
  std::vector<std::thread> threads;
  for (int t = 1; t < n; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();

  nlohmann::json report;
  report["schema_version"] = 1;
  nlohmann::json sources = nlohmann::json::object();
  for (const auto& f : files) {
    sources[f] = {{"rows", 0}, {"ran", 0}, {"scored", 0}, {"unsupported", nlohmann::json::array()},
                  {"fit_excluded", nlohmann::json::array()}, {"metrics", nlohmann::json::object()}};
    // Columns neither compared nor descriptive (e.g. a metric servetwin does not predict): named, not dropped silently.
    if (!not_compared[f].empty()) sources[f]["columns_not_compared"] = not_compared[f];
  }
  std::map<std::string, std::map<std::string, std::vector<double>>> signed_errors;  // file -> metric -> %
  nlohmann::json rows = nlohmann::json::array();
  std::size_t total = 0, ran = 0;
  for (auto& it : items) {
    auto& src = sources[it.row.file];
    src["rows"] = src["rows"].get<int>() + 1;
    ++total;
    const std::string& id = it.row.get("source_id");
    std::string reason = it.map.reason;
    if (reason.empty() && !it.run_error.empty()) reason = "run failed: " + it.run_error;
    if (reason.empty() && it.result) {
      const auto& es = it.result->engine_stats["engine_specific"];
      if (es.contains("kv_cpu_offload_bytes") && es["kv_cpu_offload_bytes"].get<double>() > 0 &&
          (es["cached_block_evictions"].get<std::uint64_t>() > 0 || es["preemptions"].get<std::uint64_t>() > 0)) {
        // Offload only acts when GPU blocks are evicted or preempted; this run needed it.
        reason = "KV CPU offload is not modelled and this run evicted/preempted GPU KV blocks, so offload would "
                 "have changed the result";
      }
      if (reason.empty() && it.result->metrics.completed == 0) reason = "no request completed in the simulated run";
    }
    if (!reason.empty()) {
      src["unsupported"].push_back({{"source_id", id}, {"reason", reason}});
      continue;
    }
    ++ran;
    src["ran"] = src["ran"].get<int>() + 1;
    const StageMetrics& mt = it.result->metrics;
    const bool per_request_itl = it.row.get("notes").find("inference-perf") != std::string::npos;
    nlohmann::json row;
    row["source_id"] = id;
    row["file"] = it.row.file;
    row["source"] = it.row.get("source");
    row["engine_preset"] = it.map.engine_preset;
    row["engine_preset_version"] = it.map.engine_preset_version;
    if (!it.map.engine_evidence.empty()) row["engine_evidence"] = it.map.engine_evidence;
    row["fit_set"] = it.map.fit_set;
    row["scored"] = !it.map.in_fit_set;
    row["load_type"] = it.row.get("load_type");
    if (auto lv = it.row.number("load_value")) row["load_value"] = *lv;
    row["model"] = it.row.get("model");
    row["gpu"] = it.row.get("gpu");
    row["tp"] = it.map.scenario->deployment.tp;
    if (it.map.replicas > 1) row["replicas"] = it.map.replicas;
    row["deployment"] = to_json(it.map.scenario->deployment);
    row["predicted"] = nlohmann::json::object();
    row["measured"] = nlohmann::json::object();
    row["ape"] = nlohmann::json::object();
    for (const auto& [col, how] : it.map.metric_source) {
      const double meas = *it.row.number(col);
      double pred = 0;
      if (col == "usd_per_1m_tokens") {
        const double tok_s = mt.throughput_output_tok_s * it.map.replicas;
        if (!(tok_s > 0)) continue;  // nothing finished in the window: no cost to compare
        pred = it.map.usd_per_h * 1e6 / (tok_s * 3600.0);
      } else {
        pred = predicted_metric(col, mt, per_request_itl);
      }
      if (col == "throughput_output_tok_s" || col == "throughput_total_tok_s" || col == "request_rate_achieved") {
        pred *= it.map.replicas;  // every replica serves its share of the load
      }
      row["predicted"][col] = pred;
      row["measured"][col] = meas;
      if (meas != 0) {
        const double err = (pred - meas) / std::abs(meas) * 100.0;
        row["ape"][col] = std::abs(err);
        if (!it.map.in_fit_set) signed_errors[it.row.file][col].push_back(err);
      }
    }
    row["metric_definitions"] = it.map.metric_source;
    const auto& es = it.result->engine_stats;
    row["engine"] = {{"batch_max", es["batch"]["max"]},
                     {"batch_mean", es["batch"]["mean_while_busy"]},
                     {"requests", mt.requests},
                     {"rejected", mt.rejected},
                     {"engine_specific", es["engine_specific"]}};
    if (it.map.in_fit_set) {
      src["fit_excluded"].push_back({{"source_id", id}, {"fit_set", it.map.fit_set}, {"preset", it.map.engine_preset}});
    } else {
      src["scored"] = src["scored"].get<int>() + 1;
    }
    rows.push_back(std::move(row));
  }
  for (auto& [file, metrics] : signed_errors) {
    for (auto& [col, errs] : metrics) sources[file]["metrics"][col] = error_summary(errs);
  }
  report["sources"] = sources;
  report["rows"] = rows;
  report["coverage"] = {{"rows", total}, {"ran", ran}, {"fraction", total > 0 ? static_cast<double>(ran) / static_cast<double>(total) : 0.0}};
  report["metric_notes"] = {
      {"itl_mean_ms", "inference-perf sources (notes mention inference-perf): per-request mean inter-token gap averaged "
                      "over requests (= simulated tpot_mean_ms); otherwise pooled gaps sum(e2e-ttft)/sum(out-1)"},
      {"tpot_mean_ms", "(e2e - ttft)/(out - 1) per request, averaged over requests"},
      {"throughput_output_tok_s", "open/closed loop: output tokens of requests finished in the window / window; replays, "
                                  "offline and static batches: first arrival to last completion"},
      {"fit_excluded", "rows belonging to the fit set of the preset that predicted them are run but never scored"}};
  return report;
}

void print_validation_tables(std::ostream& os, const nlohmann::json& report) {
  for (const auto& [file, src] : report["sources"].items()) {
    os << fmt::format("\n== {}: {} rows, {} ran, {} scored ({} fit rows excluded), {} unsupported\n", file,
                      src["rows"].get<int>(), src["ran"].get<int>(), src["scored"].get<int>(), src["fit_excluded"].size(),
                      src["unsupported"].size());
    if (!src["metrics"].empty()) {
      os << fmt::format("  {:<30} {:>4} {:>12} {:>12} {:>10}\n", "metric", "n", "median APE%", "mean APE%", "bias%");
      for (const auto& [col, m] : src["metrics"].items()) {
        os << fmt::format("  {:<30} {:>4} {:>12.1f} {:>12.1f} {:>+10.1f}\n", col, m["n"].get<int>(),
                          m["median_ape"].get<double>(), m["mean_ape"].get<double>(), m["bias"].get<double>());
      }
    }
    for (const auto& u : src["unsupported"]) {
      os << fmt::format("  unsupported {}: {}\n", u["source_id"].get<std::string>(), u["reason"].get<std::string>());
    }
    if (src.contains("columns_not_compared")) {
      os << fmt::format("  columns not compared (not predicted): {}\n",
                        fmt::join(src["columns_not_compared"].get<std::vector<std::string>>(), ", "));
    }
    for (const auto& r : report["rows"]) {
      if (r["file"] == file && r.contains("engine_evidence")) {
        os << fmt::format("  engine from the row's records, {}: {}\n", r["source_id"].get<std::string>(),
                          r["engine_evidence"].get<std::string>());
      }
    }
  }
  const auto& c = report["coverage"];
  os << fmt::format("\ncoverage: {} of {} rows ran ({:.1f}%)\n", c["ran"].get<std::size_t>(), c["rows"].get<std::size_t>(),
                    100.0 * c["fraction"].get<double>());
}

void check_no_fit_rows_scored(const nlohmann::json& report) {
  for (const auto& r : report["rows"]) {
    ValidationRow row;
    row.cells["source_id"] = r["source_id"].get<std::string>();
    const auto src = r.find("source");
    if (src != r.end() && src->is_string()) row.cells["source"] = src->get<std::string>();
    if (r["scored"].get<bool>() && row_in_fit_set(r["fit_set"].get<std::string>(), row)) {
      throw std::logic_error("row " + r["source_id"].get<std::string>() + " is in fit set " +
                             r["fit_set"].get<std::string>() + " of its preset and was scored");
    }
  }
}

}  // namespace servetwin
