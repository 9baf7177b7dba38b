#pragma once
// The calibration data model: what a microbenchmark run (CUDA or CPU) or a published table
// contributes to a fit. One JSON schema ("servetwin.calibration.v1", docs/calibration.md) is written
// by `calibrate run` and by the CUDA binary, and read back by `calibrate fit`; the published-table
// adapters (calibrate/published/) fill the same structs directly.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace servetwin::calibrate {

inline constexpr const char* kCalibrationSchema = "servetwin.calibration.v1";

struct DeviceInfo {
  std::string kind;               // "cuda" | "cpu" | "published"
  std::string name;               // e.g. "NVIDIA H100 80GB HBM3", or the CPU model name
  std::string gpu;                // catalog GPU name when known ("H100-SXM"), else empty
  std::string driver, cuda_runtime, cublas, nccl;  // versions as strings; "" when n/a
  double sm_clock_mhz = 0;        // clock observed during the run (0 = not recorded)
  int device_count = 1;
  // Peaks the efficiencies are relative to: datasheet for GPUs, measured for CPUs.
  double peak_fp16_flops = 0;
  double mem_bw_bytes_s = 0;
  std::string peak_source;        // where the peaks came from
};

// One timed GEMM: C[M,N] = A[M,K] * B[K,N] (B = weights), fp16/bf16 inputs.
struct GemmPoint {
  std::string op;                 // qkv | o | gate_up | down | lm_head
  std::string model;              // model the shape came from
  int tp = 1;
  double m = 0, n = 0, k = 0;
  double time_ns = 0;             // median
  double iqr_ns = 0;
};

// A bandwidth-bound kernel: elementwise (rmsnorm, rope, silu_mul, add), copy/read, h2d/d2h.
struct BandwidthPoint {
  std::string bench;              // "elementwise" | "mem_copy" | "mem_read" | "h2d" | "d2h"
  std::string op;                 // kernel name for elementwise
  double tokens = 0;              // M, for elementwise; 0 otherwise
  double bytes = 0;               // bytes moved (read + written)
  double time_ns = 0;
};

struct AttentionPoint {
  std::string phase;              // "prefill" | "decode"
  double batch = 0, q_len = 0, kv_len = 0;  // kv_len = context before this chunk (prefill) / length (decode)
  double heads_q = 0, heads_kv = 0, head_dim = 0;
  double flops = 0;               // prefill: causal FLOPs (attention_flops())
  double kv_bytes = 0;            // decode: K and V bytes read (attention_kv_bytes())
  double time_ns = 0;
};

struct LaunchPoint {
  std::string mode;               // "stream" (plain launches) | "graph" (CUDA-graph replay) | "thread" (CPU)
  double per_launch_ns = 0;
};

struct CollectivePoint {
  std::string collective = "all_reduce";
  std::string system;             // e.g. "h100_dgx", or the local device
  int n = 0;                      // ranks
  double bytes = 0;               // message size per rank
  double time_ns = 0;
  bool correct = true;            // result check passed (own runs); published rows assume true
};

struct CalibrationData {
  std::string schema = kCalibrationSchema;
  DeviceInfo device;
  std::string git_sha, date_utc, model;
  int tp = 1;
  std::string dtype = "fp16";
  std::vector<GemmPoint> gemm;
  std::vector<BandwidthPoint> bandwidth;
  std::vector<AttentionPoint> attention;
  std::vector<LaunchPoint> launch;
  std::vector<CollectivePoint> collectives;
  std::vector<std::string> sources;  // files or runs the points came from
  std::vector<std::string> notes;    // e.g. "NCCL all-reduce skipped: 1 GPU visible"

  void append(const CalibrationData& other);  // merges points, sources and notes
};

// Causal attention FLOPs for one prefill chunk: QK^T and PV (2 FLOPs per MAC each), each query
// token i of the chunk attending to kv_len earlier tokens plus i+1 tokens of the chunk.
double attention_prefill_flops(double batch, double q_len, double kv_len, double heads_q, double head_dim);
// K and V bytes a decode step reads: batch x context x 2 (K,V) x kv heads x head_dim x elem bytes.
double attention_kv_bytes(double batch, double kv_len, double heads_kv, double head_dim, double elem_bytes = 2);

nlohmann::json to_json(const CalibrationData& d);
// Throws ConfigError naming the file and the offending key on schema violations.
CalibrationData calibration_from_json(const nlohmann::json& j, const std::string& where);
CalibrationData load_calibration(const std::filesystem::path& path);
void save_calibration(const CalibrationData& d, const std::filesystem::path& path);

std::string utc_now_iso8601();

}  // namespace servetwin::calibrate
