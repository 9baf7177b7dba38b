// Held-out tests of the fitting method (issue 7, deliverable 4). Thresholds are the issue's:
//   - GEMM: fit on Vidur Llama-2-7B shapes only, predict Llama-2-70B shapes, median APE <= 10% over M >= 1;
//   - all-reduce: fit on sizes <= 4 MB, predict 16-64 MB within 15%.
// Each test prints the errors it measured.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "calibrate/core/catalog_hardware.hpp"
#include "calibrate/fit/allreduce_fit.hpp"
#include "calibrate/fit/gemm_fit.hpp"
#include "calibrate/published/published.hpp"
#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {
namespace {

const std::filesystem::path kVidur = std::filesystem::path(SERVETWIN_SHARED_DIR) / "calibration" / "vidur";

void gemm_heldout(const std::string& gpu, const std::string& gpu_name) {
  const Catalog catalog = Catalog::load(std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs");
  const Datasheet peaks = catalog_datasheet(catalog, gpu_name);
  const Datasheet* ds = &peaks;
  const auto train = read_vidur_mlp(kVidur / "compute" / gpu / "meta-llama/Llama-2-7b-hf/mlp.csv", "llama-2-7b");
  const auto test = read_vidur_mlp(kVidur / "compute" / gpu / "meta-llama/Llama-2-70b-hf/mlp.csv", "llama-2-70b");
  ASSERT_GT(train.gemm.size(), 1000u);
  ASSERT_GT(test.gemm.size(), 1000u);
  // For the record: the cost model's current form (eff_max * M/(M+m_half), no latency term).
  const GemmFit plain = fit_gemm(train.gemm, ds->peak_fp16_flops, ds->mem_bw_bytes_s, GemmFitOptions::cost_model_form());
  const ErrorStats plain_held = gemm_errors(plain.model, test.gemm, ds->peak_fp16_flops, ds->mem_bw_bytes_s);
  std::printf("[%s] cost-model form (eff_max=%.4f m_half=%.1f bw_eff=%.4f): held-out median APE %.2f%%, p90 %.2f%%\n",
              gpu.c_str(), plain.model.eff_max, plain.model.m_half_tokens, plain.model.bw_eff,
              100 * plain_held.median_ape, 100 * plain_held.p90_ape);
  // The recommended form, which the fitted profiles use: latency + roofline (docs/calibration.md).
  const GemmFit fit = fit_gemm(train.gemm, ds->peak_fp16_flops, ds->mem_bw_bytes_s, GemmFitOptions::recommended());
  const ErrorStats held = gemm_errors(fit.model, test.gemm, ds->peak_fp16_flops, ds->mem_bw_bytes_s);
  std::printf("[%s] recommended form fit on Llama-2-7B (%zu points): eff_max=%.4f bw_eff=%.4f latency=%.0f ns; "
              "in-sample median APE %.2f%%\n",
              gpu.c_str(), train.gemm.size(), fit.model.eff_max, fit.model.bw_eff, fit.model.latency_ns,
              100 * fit.in_sample.median_ape);
  std::printf("[%s] held-out Llama-2-70B (%zu points, M %.0f-%.0f): median APE %.2f%%, p90 %.2f%%, max %.2f%%\n",
              gpu.c_str(), held.n, held.m_min, held.m_max, 100 * held.median_ape, 100 * held.p90_ape,
              100 * held.max_ape);
  EXPECT_LE(held.median_ape, 0.10) << "issue 7: held-out GEMM median APE must be <= 10%";
}

TEST(HeldOutGemm, A100FitOn7BPredicts70B) { gemm_heldout("a100", "A100-80GB-SXM"); }
TEST(HeldOutGemm, H100FitOn7BPredicts70B) { gemm_heldout("h100", "H100-SXM"); }

void allreduce_heldout(const std::string& system) {
  const auto data = read_vidur_allreduce(kVidur / "network" / system / "all_reduce.csv", system);
  const double kMB = 1024.0 * 1024.0;
  // Only sizes <= 4 MB are fitted; the DGX systems are one NVLink fabric, which allows the
  // Simple-protocol line (calibrate/fit/allreduce_fit.hpp).
  const auto models = fit_allreduce(data.collectives, 0, 4 * kMB, true, vidur_switched_nvlink(system));
  ASSERT_FALSE(models.empty());
  for (const auto& [n, m] : models) {
    const ErrorStats held = allreduce_errors(m, data.collectives, 16 * kMB, 64 * kMB);
    std::printf("[%s n=%d] fit <= 4 MB: latency %.1f us, busbw %.1f GB/s, floor %.1f us (in-sample median APE %.1f%%); "
                "held-out 16-64 MB (%zu sizes): median APE %.1f%%, max %.1f%%\n",
                system.c_str(), n, m.latency_ns / 1e3, m.bus_bw_bytes_s / 1e9, m.floor_ns / 1e3, 100 * m.in_sample.median_ape, held.n,
                100 * held.median_ape, 100 * held.max_ape);
    if (m.simple_bus_bw_bytes_s > 0)
      std::printf("    Simple-protocol line (busbw of the 2-rank fit): latency %.1f us, busbw %.1f GB/s\n",
                  m.simple_latency_ns / 1e3, m.simple_bus_bw_bytes_s / 1e9);
    // Predicted vs measured at the nearest measured size to 16, 32 and 64 MiB, so a failure shows its shape.
    for (const double mib : {16.0, 32.0, 64.0}) {
      const CollectivePoint* near = nullptr;
      for (const auto& p : data.collectives)
        if (p.n == n && (!near || std::abs(p.bytes - mib * kMB) < std::abs(near->bytes - mib * kMB))) near = &p;
      if (near)
        std::printf("    %.1f MiB: predicted %.0f us, measured %.0f us (%+.1f%%)\n", near->bytes / kMB,
                    m.predict_ns(near->bytes) / 1e3, near->time_ns / 1e3,
                    100 * (m.predict_ns(near->bytes) - near->time_ns) / near->time_ns);
    }
    ASSERT_GT(held.n, 10u);
    EXPECT_LE(held.median_ape, 0.15) << "issue 7: all-reduce 16-64 MB predicted within 15% (n=" << n << ")";
  }
}

TEST(HeldOutAllReduce, A100Dgx) { allreduce_heldout("a100_dgx"); }
TEST(HeldOutAllReduce, H100Dgx) { allreduce_heldout("h100_dgx"); }

}  // namespace
}  // namespace servetwin::calibrate
