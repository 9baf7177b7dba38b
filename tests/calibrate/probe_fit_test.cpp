// calibrate fit --in probe.json: the fits recover coefficients injected into a synthetic probe, and
// bad probes are refused with the file and field named.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "calibrate/probe/probe_fit.hpp"
#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {
namespace {

using nlohmann::json;

json request(double in, double out, double arrival_s, double first_s, double finish_s, bool warmup = false) {
  return {{"input_tokens", in}, {"output_tokens", out}, {"arrival_ns", arrival_s * 1e9}, {"first_token_ns", first_s * 1e9},
          {"finish_ns", finish_s * 1e9}, {"status", "ok"}, {"error", ""}, {"warmup", warmup}};
}

// TTFT = 50 ms + 0.2 ms/token + 1e-5 ms/token^2; ITL = 30 ms + 4 ms x batch + 2 us x context tokens.
json synthetic_probe() {
  json phases = json::array();
  json prefill = {{"phase", "prefill"}, {"concurrency", 1}, {"requests", json::array()}};
  double t = 0;
  for (double p : {40.0, 200.0, 500.0, 900.0, 1400.0}) {
    const double ttft = 0.050 + 0.0002 * p + 1e-8 * p * p;
    prefill["requests"].push_back(request(p, 2, t, t + ttft, t + ttft + 0.01));
    t += 5;
  }
  phases.push_back(prefill);
  for (int c : {1, 2, 4, 8}) {
    for (double in : {32.0, 600.0}) {
      json st = {{"phase", in < 100 ? "decode" : "decode-context"}, {"concurrency", c}, {"requests", json::array()}};
      const double out = 48;
      const double ctx = c * (in + out / 2);
      const double itl = 0.030 + 0.004 * c + 2e-6 * ctx;
      for (int u = 0; u < c; ++u) st["requests"].push_back(request(in, out, 0, 1.0, 1.0 + itl * (out - 1)));
      phases.push_back(st);
    }
  }
  json burst = {{"phase", "burst"}, {"concurrency", 0}, {"requests", json::array()}};
  for (int i = 0; i < 12; ++i) {  // 5 decode at once: each wave starts when the previous one ends
    const double start = 1.0 + (i / 5) * 2.0;
    burst["requests"].push_back(request(32, 16, 0, start, start + 1.9));
  }
  phases.push_back(burst);
  return {{"schema", "servetwin.probe.v1"}, {"complete", true}, {"phases", phases}};
}

TEST(ProbeFit, RecoversInjectedCoefficients) {
  const ProbeFit f = fit_probe(synthetic_probe(), "synthetic.json");
  EXPECT_NEAR(f.ttft.coef[0], 0.050, 0.050 * 0.01);
  EXPECT_NEAR(f.ttft.coef[1], 0.0002, 0.0002 * 0.01);
  EXPECT_NEAR(f.ttft.coef[2], 1e-8, 1e-8 * 0.05);
  EXPECT_NEAR(f.decode.coef[0], 0.030, 0.030 * 0.01);
  EXPECT_NEAR(f.decode.coef[1], 0.004, 0.004 * 0.01);
  EXPECT_NEAR(f.decode.coef[2], 2e-6, 2e-6 * 0.01);
  EXPECT_LT(f.decode.median_ape, 1e-6);
  EXPECT_EQ(f.admission_limit, 5);
  EXPECT_EQ(f.prompt_min, 40);
  EXPECT_EQ(f.prompt_max, 1400);
}

TEST(ProbeFit, NnlsKeepsCoefficientsNonNegative) {
  // y = 2 - x would need a negative slope: the constrained optimum drops it.
  const std::vector<std::vector<double>> x{{1, 0}, {1, 1}, {1, 2}};
  const auto b = nnls_small(x, {2, 1, 0.001}, {1, 1, 1});
  EXPECT_GE(b[1], 0.0);
  EXPECT_EQ(b[1], 0.0);
}

TEST(ProbeFit, RefusesOtherFilesAndThinProbes) {
  EXPECT_THROW(fit_probe(json{{"schema", "servetwin.calibration.v1"}}, "x.json"), ConfigError);
  json p = synthetic_probe();
  p["phases"].erase(0);  // no lone-request TTFTs
  try {
    fit_probe(p, "thin.json");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("thin.json"), std::string::npos);
  }
}

}  // namespace
}  // namespace servetwin::calibrate
