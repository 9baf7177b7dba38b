#include "calibrate/core/calibration_data.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>

#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {

using nlohmann::json;

void CalibrationData::append(const CalibrationData& o) {
  gemm.insert(gemm.end(), o.gemm.begin(), o.gemm.end());
  bandwidth.insert(bandwidth.end(), o.bandwidth.begin(), o.bandwidth.end());
  attention.insert(attention.end(), o.attention.begin(), o.attention.end());
  launch.insert(launch.end(), o.launch.begin(), o.launch.end());
  collectives.insert(collectives.end(), o.collectives.begin(), o.collectives.end());
  sources.insert(sources.end(), o.sources.begin(), o.sources.end());
  notes.insert(notes.end(), o.notes.begin(), o.notes.end());
}

double attention_prefill_flops(double batch, double q_len, double kv_len, double heads_q, double head_dim) {
  // sum over i in [0, q_len) of (kv_len + i + 1) = q_len*kv_len + q_len*(q_len+1)/2
  const double pairs = q_len * kv_len + q_len * (q_len + 1) / 2;
  return 4.0 * batch * heads_q * head_dim * pairs;
}

double attention_kv_bytes(double batch, double kv_len, double heads_kv, double head_dim, double elem_bytes) {
  return batch * kv_len * 2.0 * heads_kv * head_dim * elem_bytes;
}

json to_json(const CalibrationData& d) {
  json j;
  j["schema"] = d.schema;
  j["device"] = {{"kind", d.device.kind},
                 {"name", d.device.name},
                 {"gpu", d.device.gpu},
                 {"driver", d.device.driver},
                 {"cuda_runtime", d.device.cuda_runtime},
                 {"cublas", d.device.cublas},
                 {"nccl", d.device.nccl},
                 {"sm_clock_mhz", d.device.sm_clock_mhz},
                 {"device_count", d.device.device_count},
                 {"peak_fp16_flops", d.device.peak_fp16_flops},
                 {"mem_bw_bytes_s", d.device.mem_bw_bytes_s},
                 {"peak_source", d.device.peak_source}};
  j["git_sha"] = d.git_sha;
  j["date_utc"] = d.date_utc;
  j["model"] = d.model;
  j["tp"] = d.tp;
  j["dtype"] = d.dtype;
  json& g = j["gemm"] = json::array();
  for (const auto& p : d.gemm)
    g.push_back({{"op", p.op}, {"model", p.model}, {"tp", p.tp}, {"m", p.m}, {"n", p.n}, {"k", p.k},
                 {"time_ns", p.time_ns}, {"iqr_ns", p.iqr_ns}});
  json& b = j["bandwidth"] = json::array();
  for (const auto& p : d.bandwidth)
    b.push_back({{"bench", p.bench}, {"op", p.op}, {"tokens", p.tokens}, {"bytes", p.bytes}, {"time_ns", p.time_ns}});
  json& a = j["attention"] = json::array();
  for (const auto& p : d.attention)
    a.push_back({{"phase", p.phase}, {"batch", p.batch}, {"q_len", p.q_len}, {"kv_len", p.kv_len},
                 {"heads_q", p.heads_q}, {"heads_kv", p.heads_kv}, {"head_dim", p.head_dim}, {"flops", p.flops},
                 {"kv_bytes", p.kv_bytes}, {"time_ns", p.time_ns}});
  json& l = j["launch"] = json::array();
  for (const auto& p : d.launch) l.push_back({{"mode", p.mode}, {"per_launch_ns", p.per_launch_ns}});
  json& c = j["collectives"] = json::array();
  for (const auto& p : d.collectives)
    c.push_back({{"collective", p.collective}, {"system", p.system}, {"n", p.n}, {"bytes", p.bytes},
                 {"time_ns", p.time_ns}, {"correct", p.correct}});
  j["sources"] = d.sources;
  j["notes"] = d.notes;
  return j;
}

namespace {

// Strict accessors: every key the schema lists must be present with the right type, and no
// unknown key may appear (a typo in a hand-edited file must not silently drop data).
void check_keys(const json& obj, const std::vector<std::string>& allowed, const std::string& where) {
  if (!obj.is_object()) throw ConfigError(where + ": expected an object");
  for (const auto& [key, _] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      // Not fmt::format: this file is also linked into servetwin-cuda-bench, which is carried to GPU
      // machines without libfmt (statically linked, CMakeLists.txt).
      // NOLINTNEXTLINE(performance-inefficient-string-concatenation)
      throw ConfigError(where + ": unknown key '" + key + "' (allowed: " + list + ")");
    }
  }
}

template <typename T>
T get(const json& obj, const std::string& key, const std::string& where) {
  if (!obj.contains(key)) throw ConfigError(where + ": missing key '" + key + "'");
  try {
    return obj.at(key).get<T>();
  } catch (const json::exception&) {
    throw ConfigError(where + ": key '" + key + "' has the wrong type (" + obj.at(key).type_name() + ")");
  }
}

double get_nonneg(const json& obj, const std::string& key, const std::string& where) {
  const double v = get<double>(obj, key, where);
  if (!(v >= 0)) throw ConfigError(where + ": key '" + key + "' must be >= 0");
  return v;
}

}  // namespace

CalibrationData calibration_from_json(const json& j, const std::string& where) {
  check_keys(j,
             {"schema", "device", "git_sha", "date_utc", "model", "tp", "dtype", "gemm", "bandwidth", "attention",
              "launch", "collectives", "sources", "notes"},
             where);
  CalibrationData d;
  d.schema = get<std::string>(j, "schema", where);
  if (d.schema != kCalibrationSchema)
    throw ConfigError(where + ": key 'schema' is '" + d.schema + "' (allowed: " + kCalibrationSchema + ")");
  const json& dev = j.at("device");
  const std::string dw = where + ": device";
  check_keys(dev,
             {"kind", "name", "gpu", "driver", "cuda_runtime", "cublas", "nccl", "sm_clock_mhz", "device_count",
              "peak_fp16_flops", "mem_bw_bytes_s", "peak_source"},
             dw);
  d.device.kind = get<std::string>(dev, "kind", dw);
  if (d.device.kind != "cuda" && d.device.kind != "cpu" && d.device.kind != "published")
    throw ConfigError(dw + ": key 'kind' is '" + d.device.kind + "' (allowed: cuda, cpu, published)");
  d.device.name = get<std::string>(dev, "name", dw);
  d.device.gpu = get<std::string>(dev, "gpu", dw);
  d.device.driver = get<std::string>(dev, "driver", dw);
  d.device.cuda_runtime = get<std::string>(dev, "cuda_runtime", dw);
  d.device.cublas = get<std::string>(dev, "cublas", dw);
  d.device.nccl = get<std::string>(dev, "nccl", dw);
  d.device.sm_clock_mhz = get_nonneg(dev, "sm_clock_mhz", dw);
  d.device.device_count = get<int>(dev, "device_count", dw);
  d.device.peak_fp16_flops = get_nonneg(dev, "peak_fp16_flops", dw);
  d.device.mem_bw_bytes_s = get_nonneg(dev, "mem_bw_bytes_s", dw);
  d.device.peak_source = get<std::string>(dev, "peak_source", dw);
  d.git_sha = get<std::string>(j, "git_sha", where);
  d.date_utc = get<std::string>(j, "date_utc", where);
  d.model = get<std::string>(j, "model", where);
  d.tp = get<int>(j, "tp", where);
  d.dtype = get<std::string>(j, "dtype", where);
  std::size_t i = 0;
  for (const auto& p : get<json>(j, "gemm", where)) {
    const std::string w = where + ": gemm[" + std::to_string(i++) + "]";
    check_keys(p, {"op", "model", "tp", "m", "n", "k", "time_ns", "iqr_ns"}, w);
    GemmPoint g{get<std::string>(p, "op", w), get<std::string>(p, "model", w), get<int>(p, "tp", w),
                get_nonneg(p, "m", w), get_nonneg(p, "n", w), get_nonneg(p, "k", w), get_nonneg(p, "time_ns", w),
                get_nonneg(p, "iqr_ns", w)};
    d.gemm.push_back(g);
  }
  i = 0;
  for (const auto& p : get<json>(j, "bandwidth", where)) {
    const std::string w = where + ": bandwidth[" + std::to_string(i++) + "]";
    check_keys(p, {"bench", "op", "tokens", "bytes", "time_ns"}, w);
    d.bandwidth.push_back({get<std::string>(p, "bench", w), get<std::string>(p, "op", w),
                           get_nonneg(p, "tokens", w), get_nonneg(p, "bytes", w), get_nonneg(p, "time_ns", w)});
  }
  i = 0;
  for (const auto& p : get<json>(j, "attention", where)) {
    const std::string w = where + ": attention[" + std::to_string(i++) + "]";
    check_keys(p, {"phase", "batch", "q_len", "kv_len", "heads_q", "heads_kv", "head_dim", "flops", "kv_bytes", "time_ns"},
               w);
    AttentionPoint a;
    a.phase = get<std::string>(p, "phase", w);
    if (a.phase != "prefill" && a.phase != "decode")
      throw ConfigError(w + ": key 'phase' is '" + a.phase + "' (allowed: prefill, decode)");
    a.batch = get_nonneg(p, "batch", w);
    a.q_len = get_nonneg(p, "q_len", w);
    a.kv_len = get_nonneg(p, "kv_len", w);
    a.heads_q = get_nonneg(p, "heads_q", w);
    a.heads_kv = get_nonneg(p, "heads_kv", w);
    a.head_dim = get_nonneg(p, "head_dim", w);
    a.flops = get_nonneg(p, "flops", w);
    a.kv_bytes = get_nonneg(p, "kv_bytes", w);
    a.time_ns = get_nonneg(p, "time_ns", w);
    d.attention.push_back(a);
  }
  i = 0;
  for (const auto& p : get<json>(j, "launch", where)) {
    const std::string w = where + ": launch[" + std::to_string(i++) + "]";
    check_keys(p, {"mode", "per_launch_ns"}, w);
    d.launch.push_back({get<std::string>(p, "mode", w), get_nonneg(p, "per_launch_ns", w)});
  }
  i = 0;
  for (const auto& p : get<json>(j, "collectives", where)) {
    const std::string w = where + ": collectives[" + std::to_string(i++) + "]";
    check_keys(p, {"collective", "system", "n", "bytes", "time_ns", "correct"}, w);
    d.collectives.push_back({get<std::string>(p, "collective", w), get<std::string>(p, "system", w),
                             get<int>(p, "n", w), get_nonneg(p, "bytes", w), get_nonneg(p, "time_ns", w),
                             get<bool>(p, "correct", w)});
  }
  d.sources = get<std::vector<std::string>>(j, "sources", where);
  d.notes = get<std::vector<std::string>>(j, "notes", where);
  return d;
}

CalibrationData load_calibration(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError(path.string() + ": cannot open calibration results");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    throw ConfigError(path.string() + ": not valid JSON: " + e.what());
  }
  return calibration_from_json(j, path.string());
}

void save_calibration(const CalibrationData& d, const std::filesystem::path& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << to_json(d).dump(1) << "\n";
}

std::string utc_now_iso8601() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace servetwin::calibrate
