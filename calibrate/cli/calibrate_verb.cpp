// `servetwin calibrate run|fit|engine|check`: microbenchmarks -> JSON -> fitted hardware profile.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "calibrate/core/calibration_data.hpp"
#include "calibrate/core/catalog_hardware.hpp"
#include "calibrate/cpu/cpu_suite.hpp"
#include "calibrate/engine/engine_fit.hpp"
#include "calibrate/fit/profile_fit.hpp"
#include "calibrate/probe/probe_catalog.hpp"
#include "calibrate/probe/probe_merge.hpp"
#include "calibrate/published/published.hpp"
#include "sim/catalog/catalog.hpp"
#include "sim/core/path_check.hpp"
#include "sim/metrics/summary.hpp"
#include "sim/cli/verb_registry.hpp"
#include "sim/version.hpp"

namespace servetwin::cli {
namespace {

namespace fs = std::filesystem;
using namespace servetwin::calibrate;

fs::path shared_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  // getenv races only with setenv/putenv, which servetwin never calls.
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  if (const char* env = std::getenv("SERVETWIN_SHARED_DIR"); env != nullptr && *env != '\0') return env;
  return SERVETWIN_SHARED_DIR;
}

// The CUDA binary is a separate executable (it links CUDA, cuBLASLt and NCCL, which the servetwin
// executable must not need): next to this executable, or $SERVETWIN_CUDA_BENCH.
fs::path find_cuda_bench(const std::string& flag) {
  if (!flag.empty()) return flag;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): as in shared_dir
  if (const char* env = std::getenv("SERVETWIN_CUDA_BENCH"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  for (const fs::path& p : {self.parent_path() / "servetwin-cuda-bench", self.parent_path() / "calibrate" / "servetwin-cuda-bench"})
    if (check_path(p).exists) return p;
  return {};
}

struct RunOpts {
  std::string device = "cpu", model = "tiny", out, bench_binary;
  int tp = 1, m_max = 0;
  bool quick = false;
};
struct FitOpts {
  std::vector<std::string> in, published, models;
  std::string out, gpu, name, shared;
  double peak_flops = 0, mem_bw = 0;
  ProbeCatalogOptions probe;  // --in probe.json: the endpoint's model and scheduler limits
  std::string probe_model, probe_hf_config, config_dir;
};
struct EngineOpts {
  std::string live, out;
  int scenario = 0;
};
struct CheckOpts {
  std::string profile, in;
  double max_median_ape = 0;
  bool verbose = false;
};

int do_run(const RunOpts& o) {
  if (o.device != "cpu" && o.device != "cuda") throw UsageError("--device must be cpu or cuda");
  if (o.tp < 1) throw UsageError("--tp must be >= 1");
  const Catalog catalog = Catalog::load();
  ModelGeometry geometry;
  try {
    geometry = catalog_model_geometry(catalog, o.model);  // any id or alias predict accepts, or the toy "tiny"
  } catch (const ConfigError& e) {
    throw UsageError(std::string("--model: ") + e.what());
  }
  if (o.device == "cpu") {
    CpuSuiteOptions c;
    c.geometry = geometry;
    c.tp = o.tp;
    if (o.m_max > 0) c.m_max = o.m_max;
    if (o.quick) {
      c.m_max = std::min(c.m_max, 64);
      c.elementwise_m_max = 256;
      c.mem_sizes_bytes = {4e6, 16e6};
      c.stop = StopRule{3, 30, 0.02, 0.1};
    }
    CalibrationData d = run_cpu_suite(c);
    d.git_sha = git_sha();
    save_calibration(d, o.out);
    std::cerr << fmt::format("calibrate run: {} GEMM, {} bandwidth, {} attention points -> {}\n", d.gemm.size(),
                             d.bandwidth.size(), d.attention.size(), o.out);
    return kExitOk;
  }
  const fs::path bench = find_cuda_bench(o.bench_binary);
  if (bench.empty())
    throw std::runtime_error("servetwin-cuda-bench not found: it is built only where nvcc is found "
                             "(set SERVETWIN_CUDA_BENCH or --bench-binary)");
  std::string cmd = fmt::format("'{}' --model '{}' --geometry {} --tp {} --out '{}' --git-sha {}", bench.string(),
                                geometry.name, geometry_arg(geometry), o.tp, o.out, git_sha());
  if (o.m_max > 0) cmd += fmt::format(" --m-max {}", o.m_max);
  if (o.quick) cmd += " --quick";
  std::cerr << "calibrate run: " << cmd << "\n";
  // system() is unsafe only against other threads' signal handling and environment; `calibrate run` has one thread.
  const int rc = std::system(cmd.c_str());  // NOLINT(concurrency-mt-unsafe)
  if (rc != 0) throw std::runtime_error(fmt::format("servetwin-cuda-bench failed (status {})", rc));
  (void)load_calibration(o.out);  // the binary's output must parse under the same strict schema
  return kExitOk;
}

// For scripts that run servetwin-cuda-bench themselves (scripts/gpu-calibrate.sh): "ID GEOMETRY" on one line.
int do_geometry(const RunOpts& o) {
  ModelGeometry g;
  try {
    g = catalog_model_geometry(Catalog::load(), o.model);
  } catch (const ConfigError& e) {
    throw UsageError(std::string("--model: ") + e.what());
  }
  std::cout << g.name << " " << geometry_arg(g) << "\n";
  return kExitOk;
}

// --in probe.json (calibrate probe): a catalog directory for the probed endpoint, not a profile YAML.
// Several --in probes of one endpoint are fitted as one (probe_merge.hpp: a sweep bracketed in time).
int do_probe_fit(const FitOpts& o) {
  if (!o.published.empty()) throw UsageError("calibrate fit: give probe.json files (--in) and nothing else with them");
  std::vector<std::pair<std::string, nlohmann::json>> probes;
  for (const auto& path : o.in) {
    std::ifstream in(path);
    if (!in) throw ConfigError(path + ": cannot read");
    probes.emplace_back(path, nlohmann::json::parse(in, nullptr, false));
  }
  const nlohmann::json merged = merge_probes(probes);
  const ProbeFit fit = fit_probe(merged, o.in.front());
  ProbeCatalogOptions po = o.probe;
  po.out_dir = o.out;
  po.base_config_dir = o.config_dir.empty() ? default_config_dir() : fs::path(o.config_dir);
  po.model = o.probe_model;
  po.hf_config = o.probe_hf_config;
  if (po.model.empty() == po.hf_config.empty()) throw UsageError("calibrate fit --in probe.json: give --model ID or --hf-config FILE (one)");
  const std::string flags = write_probe_catalog(fit, po);
  // What was fitted, as one probe, for readers of the probes (scripts/engines/loop_report.py).
  if (probes.size() > 1) write_json_file(fs::path(o.out) / "probe-merged.json", merged);
  std::cout << fmt::format(
      "probe fit -> {}/ (catalog/, fit.json, predict-flags.txt)\n"
      "  TTFT of a lone request = {:.2f} ms + {:.4f} ms/token x p + {:.3g} ms x p^2   (median APE {:.1f}%, {} requests, p {}..{})\n"
      "  inter-token time = {:.2f} ms + {:.3f} ms x batch + {:.3g} ms x context tokens   (median APE {:.1f}%, {} stages, batch {:.1f}..{:.1f}, context {:.0f}..{:.0f})\n"
      "  admission limit seen in the burst: {} of {}\n  predict with: {}\n",
      o.out, 1e3 * fit.ttft.coef[0], 1e3 * fit.ttft.coef[1], 1e3 * fit.ttft.coef[2], 100 * fit.ttft.median_ape, fit.ttft.n,
      fit.prompt_min, fit.prompt_max, 1e3 * fit.decode.coef[0], 1e3 * fit.decode.coef[1], 1e3 * fit.decode.coef[2],
      100 * fit.decode.median_ape, fit.decode.n, fit.batch_min, fit.batch_max, fit.context_min, fit.context_max, fit.admission_limit, fit.burst_requests, flags);
  for (const auto& r : fit.decode_rows)
    std::cout << fmt::format("    {} c={}: batch {:.2f}, context {:.0f}: {:.2f} ms measured, {:.2f} ms fitted ({:+.1f}%, {} requests)\n", r.phase,
                             r.stage_concurrency, r.x[1], r.x[2], 1e3 * r.measured_s, 1e3 * r.predicted_s,
                             100 * (r.predicted_s - r.measured_s) / r.measured_s, r.requests);
  for (const auto& n : fit.notes) std::cout << "  note: " << n << "\n";
  return kExitOk;
}

int do_fit(const FitOpts& o) {
  if (o.in.empty() && o.published.empty()) throw UsageError("calibrate fit needs --in FILE or --published SPEC");
  if (!o.in.empty() && is_probe_file(o.in.front())) return do_probe_fit(o);
  CalibrationData d;
  bool first = true;
  auto merge = [&](const CalibrationData& x) {
    if (first) {
      d = x;
      first = false;
    } else {
      d.append(x);
    }
  };
  for (const auto& f : o.in) merge(load_calibration(f));
  const Catalog catalog = Catalog::load();
  for (const auto& p : o.published) merge(read_published(catalog, p, shared_dir(o.shared), o.models));
  ProfileFitOptions po;
  po.name = o.name;
  if (!o.gpu.empty()) {
    Datasheet ds;
    try {
      ds = catalog_datasheet(catalog, o.gpu);
    } catch (const ConfigError& e) {
      throw UsageError("--gpu '" + o.gpu + "': " + e.what());
    }
    po.peak_fp16_flops = ds.peak_fp16_flops;
    po.mem_bw_bytes_s = ds.mem_bw_bytes_s;
    d.device.gpu = ds.gpu;
  }
  if (o.peak_flops > 0) po.peak_fp16_flops = o.peak_flops;
  if (o.mem_bw > 0) po.mem_bw_bytes_s = o.mem_bw;
  ProfileFit fit = fit_profile(d, po);
  // Published Vidur fits also get the end-to-end decode check against Splitwise (same GPUs, DGX).
  for (const auto& spec : o.published) {
    const std::string hw = spec == "vidur:a100" ? "a100-80gb" : spec == "vidur:h100" ? "h100-80gb" : "";
    if (!hw.empty() && fit.has_gemm)
      splitwise_decode_check(fit, read_splitwise(shared_dir(o.shared) / "calibration" / "splitwise" / "perf_model.csv"), hw,
                             catalog_model_geometry(catalog, "meta-llama/Llama-2-70b-hf"));
  }
  write_profile(fit, o.out);
  const auto& p = fit.profile;
  std::cout << fmt::format(
      "profile {} -> {}\n  gemm_eff_max {:.4f}  gemm_bw_eff {:.4f}  gemm latency {:.0f} ns  (GEMM median APE {:.1f}%)\n"
      "  elementwise_bw_eff {:.4f}  attn_prefill_flops_eff {:.4f} ({})  attn_decode_bw_eff {:.4f} ({})\n"
      "  layer_overhead_ns {:.0f} ({})  copy_bw_eff {:.4f} ({})\n",
      p.name, o.out, p.gemm_eff_max.value, p.gemm_bw_eff.value, fit.gemm.model.latency_ns,
      100 * fit.gemm.in_sample.median_ape, p.elementwise_bw_eff.value, p.attn_prefill_flops_eff.value,
      p.attn_prefill_flops_eff.provenance, p.attn_decode_bw_eff.value, p.attn_decode_bw_eff.provenance,
      p.layer_overhead_ns.value, p.layer_overhead_ns.provenance, p.copy_bw_eff.value, p.copy_bw_eff.provenance);
  for (const auto& n : fit.notes)
    if (n.rfind("Splitwise", 0) == 0) std::cout << "  " << n << "\n";
  for (const auto& [sys, models] : fit.allreduce)
    for (const auto& [n, m] : models) {
      std::cout << fmt::format("  all-reduce {} tp{}: latency {:.1f} us, busbw {:.1f} GB/s, floor {:.1f} us", sys, n,
                               m.latency_ns / 1e3, m.bus_bw_bytes_s / 1e9, m.floor_ns / 1e3);
      if (m.simple_bus_bw_bytes_s > 0)
        std::cout << fmt::format("; Simple line {:.1f} us, {:.1f} GB/s", m.simple_latency_ns / 1e3,
                                 m.simple_bus_bw_bytes_s / 1e9);
      std::cout << "\n";
    }
  return kExitOk;
}

int do_engine(const EngineOpts& o) {
  const fs::path dir(o.live);
  if (const PathCheck c = check_path(dir); !c.directory) {
    throw UsageError("--live '" + o.live + "' is not a directory" + c.reason_suffix());
  }
  std::vector<RequestRecord> records, warmup;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".csv") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::string used;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::string header;
    std::getline(in, header);
    if (header != request_csv_header()) continue;  // other CSVs (metrics) live beside it
    auto r = read_request_csv(f);
    // The live runner's warmup requests (excluded from results, as in llm-load-test) occupied the
    // engine: the fit counts them in batches and prefill steps but fits only the measured requests.
    auto& into = f.filename() == "warmup_requests.csv" ? warmup : records;
    into.insert(into.end(), r.begin(), r.end());
    used += (used.empty() ? "" : ", ") + f.string();
  }
  if (records.empty()) throw ConfigError(o.live + ": no per-request CSV (header: " + request_csv_header() + ")");
  // The live runner's stream message times, when present, give each decode step's batch exactly.
  MessageTimes messages;
  const fs::path msg_csv = dir / "messages.csv";
  if (check_path(msg_csv).regular) {
    messages = read_message_csv(msg_csv);
    used += ", " + msg_csv.string();
  }
  const EngineFit fit = fit_engine(records, o.scenario, messages.empty() ? nullptr : &messages, &warmup);
  std::ofstream out(o.out);
  if (!out) throw std::runtime_error("cannot write " + o.out);
  out << engine_fit_yaml(fit, "fitted from " + used);
  std::cout << fmt::format(
      "engine overheads -> {}: per_request {:.0f} ns, step {:.0f} ns, per_seq_step {:.0f} ns, prefill {:.1f} ns/token "
      "({} requests, {} timed by stream messages, {} idle arrivals; TTFT median APE {:.1f}%, decode {:.1f}%)\n",
      o.out, fit.per_request_ns, fit.step_ns, fit.per_seq_step_ns, fit.prefill_ns_per_token, fit.requests_used,
      fit.message_timed, fit.idle_arrivals, 100 * fit.ttft_median_ape, 100 * fit.decode_median_ape);
  return kExitOk;
}

int do_check(const CheckOpts& o) {
  const LoadedProfile lp = load_profile(o.profile);
  const CalibrationData d = load_calibration(o.in);
  const CheckResult r = check_profile(lp, d);
  if (o.verbose)
    for (const auto& l : r.lines) std::cout << l << "\n";
  std::cout << fmt::format("check {} against {}: GEMM {} points, median APE {:.1f}%, p90 {:.1f}%; elementwise {} points, "
                           "median APE {:.1f}%\n",
                           o.profile, o.in, r.gemm.n, 100 * r.gemm.median_ape, 100 * r.gemm.p90_ape, r.elementwise.n,
                           100 * r.elementwise.median_ape);
  if (o.max_median_ape > 0 && r.gemm.median_ape > o.max_median_ape) {
    std::cerr << fmt::format("check failed: GEMM median APE {:.1f}% > {:.1f}%\n", 100 * r.gemm.median_ape,
                             100 * o.max_median_ape);
    return kExitFailure;
  }
  return kExitOk;
}

const VerbRegistration kCalibrate{Verb{
    "calibrate", "Microbenchmarks (CUDA or CPU) and fitting of hardware profiles",
    [](CLI::App& cmd) -> std::function<int()> {
      cmd.require_subcommand(1);
      auto run = std::make_shared<RunOpts>();
      auto fit = std::make_shared<FitOpts>();
      auto eng = std::make_shared<EngineOpts>();
      auto chk = std::make_shared<CheckOpts>();
      auto which = std::make_shared<std::string>();

      auto* r = cmd.add_subcommand("run", "Run the microbenchmark suite and write results JSON");
      r->add_option("--device", run->device, "cuda or cpu")->check(CLI::IsMember({"cuda", "cpu"}));
      r->add_option("--model", run->model, "model whose shapes to benchmark");
      r->add_option("--tp", run->tp, "tensor-parallel degree for the per-GPU shapes");
      r->add_option("--out", run->out, "results JSON")->required();
      r->add_option("--m-max", run->m_max, "largest token count M in the GEMM grid");
      r->add_flag("--quick", run->quick, "short grids (CI)");
      r->add_option("--bench-binary", run->bench_binary, "path of servetwin-cuda-bench");
      r->callback([which] { *which = "run"; });

      auto* g = cmd.add_subcommand("geometry", "Print a catalog model's id and its servetwin-cuda-bench --geometry");
      g->add_option("--model", run->model, "model id or alias (as predict accepts)")->required();
      g->callback([which] { *which = "geometry"; });

      auto* f = cmd.add_subcommand("fit", "Fit a hardware profile from results JSON and/or published tables");
      f->add_option("--in", fit->in, "results JSON (repeatable)");
      f->add_option("--published", fit->published, "published data: vidur:a100, vidur:h100 (repeatable)");
      f->add_option("--models", fit->models, "published mlp.csv models to use: llama-2-7b, llama-2-70b");
      f->add_option("--gpu", fit->gpu, "catalog GPU whose datasheet peaks the efficiencies are relative to");
      f->add_option("--peak-flops", fit->peak_flops, "override peak FLOP/s");
      f->add_option("--mem-bw", fit->mem_bw, "override peak memory bandwidth, bytes/s");
      f->add_option("--name", fit->name, "profile name");
      f->add_option("--shared-dir", fit->shared, "the ../shared reference directory");
      f->add_option("--out", fit->out, "profile YAML (--in probe.json: a directory)")->required();
      f->add_option("--model", fit->probe_model, "probe fit: the served model's catalog id");
      f->add_option("--hf-config", fit->probe_hf_config, "probe fit: the served model's HF config.json");
      f->add_option("--model-name", fit->probe.model_name, "probe fit: name for the --hf-config model (default: served name)");
      f->add_option("--max-num-seqs", fit->probe.max_num_seqs, "probe fit: the server's max_num_seqs (default: the burst's)");
      f->add_option("--max-num-batched-tokens", fit->probe.max_num_batched_tokens, "probe fit: token budget per step (default 2048)");
      f->add_option("--kv-blocks", fit->probe.kv_blocks, "probe fit: KV blocks (default: the server's cache_config_info)");
      f->add_option("--block-size", fit->probe.block_size, "probe fit: KV block tokens (default: the server's, else 16)");
      f->add_option("--config-dir", fit->config_dir, "probe fit: the catalog to extend (default: configs/)");
      f->callback([which] { *which = "fit"; });

      auto* e = cmd.add_subcommand("engine", "Fit engine overheads from a run's per-request CSV");
      e->add_option("--live", eng->live, "directory holding the per-request CSV")->required();
      e->add_option("--out", eng->out, "engine overheads YAML")->required();
      e->add_option("--scenario", eng->scenario, "scenario index to fit (default 0)");
      e->callback([which] { *which = "engine"; });

      auto* c = cmd.add_subcommand("check", "Predict measured points from a profile and report the error");
      c->add_option("--profile", chk->profile, "profile YAML")->required();
      c->add_option("--in", chk->in, "results JSON")->required();
      c->add_option("--max-median-ape", chk->max_median_ape, "fail (exit 1) above this GEMM median APE (fraction)");
      c->add_flag("--verbose", chk->verbose, "one line per point");
      c->callback([which] { *which = "check"; });

      // Subcommands other modules add (calibrate probe, from live/): each runs its own function.
      auto extra = std::make_shared<std::map<std::string, std::function<int()>>>();
      for (const auto& sv : subverb_registry()) {
        if (sv.parent != "calibrate") continue;
        auto* x = cmd.add_subcommand(sv.verb.name, sv.verb.summary);
        (*extra)[sv.verb.name] = sv.verb.setup(*x);
        x->callback([which, name = sv.verb.name] { *which = name; });
      }

      return [=]() -> int {
        if (auto it = extra->find(*which); it != extra->end()) return it->second();
        if (*which == "run") return do_run(*run);
        if (*which == "geometry") return do_geometry(*run);
        if (*which == "fit") return do_fit(*fit);
        if (*which == "engine") return do_engine(*eng);
        if (*which == "check") return do_check(*chk);
        throw UsageError("calibrate: choose run, geometry, fit, engine or check");
      };
    }}};

}  // namespace
}  // namespace servetwin::cli
