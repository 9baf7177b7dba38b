// calibrate fit --in probe.json: the fits recover coefficients injected into a synthetic probe, and
// bad probes are refused with the file and field named.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "calibrate/probe/probe_catalog.hpp"
#include "calibrate/probe/probe_fit.hpp"
#include "calibrate/probe/probe_merge.hpp"
#include "sim/engine/engine_settings.hpp"
#include "sim/engine/front_end_spread.hpp"
#include "sim/catalog/catalog.hpp"

namespace servetwin::calibrate {
namespace {

using nlohmann::json;

json request(double in, double out, double arrival_s, double first_s, double finish_s, bool warmup = false) {
  return {{"input_tokens", in}, {"output_tokens", out}, {"arrival_ns", arrival_s * 1e9}, {"first_token_ns", first_s * 1e9},
          {"finish_ns", finish_s * 1e9}, {"status", "ok"}, {"error", ""}, {"warmup", warmup}};
}

// TTFT = 50 ms + 0.2 ms/token + 1e-5 ms/token^2 (the quadratic term settable); ITL = 30 ms + 4 ms x
// batch + 2 us x context tokens.
json synthetic_probe(double ttft_quadratic_s = 1e-8) {
  json phases = json::array();
  json prefill = {{"phase", "prefill"}, {"concurrency", 1}, {"requests", json::array()}};
  double t = 0;
  for (double p : {40.0, 200.0, 500.0, 900.0, 1400.0}) {
    const double ttft = 0.050 + 0.0002 * p + ttft_quadratic_s * p * p;
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
    const int wave = i / 5;
    const double start = 1.0 + wave * 2.0;
    burst["requests"].push_back(request(32, 16, 0, start, start + 1.9));
  }
  phases.push_back(burst);
  return {{"schema", "servetwin.probe.v1"}, {"complete", true}, {"phases", phases}};
}

// Where a test writes the catalog of a fitted probe of the shipped tiny Llama (100 KV blocks of 16).
ProbeCatalogOptions tiny_llama_catalog_options(const std::string& tag) {
  ProbeCatalogOptions o;
  o.out_dir = std::filesystem::temp_directory_path() / ("servetwin-probe-" + tag + "-" + std::to_string(::getpid()));
  o.base_config_dir = std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs";
  o.hf_config = std::filesystem::path(SERVETWIN_SOURCE_DIR) / "configs/real-engines/tiny-llama/config.json";
  o.model_name = "tiny-llama";
  o.kv_blocks = 100;
  o.block_size = 16;
  return o;
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

// An interleaved probe (live/probe/probe_design.hpp): every decode stage is 3 entries of one round each
// ("pass" 0-2), each timed from its own runner's start, and the server's speed differs by pass (x0.8,
// x1, x1.25 per token). The fit pools a stage's entries into one row: one row per stage, all rounds'
// requests behind it, the batch each request saw (not the sum of passes that share a time base), and
// the median over the passes: the middle pass's coefficients.
TEST(ProbeFit, InterleavedRoundsPoolIntoOneRowPerStage) {
  json probe = synthetic_probe();
  json phases = json::array();
  for (const auto& ph : probe["phases"]) {
    if (ph["phase"] != "decode" && ph["phase"] != "decode-context") {
      phases.push_back(ph);
      continue;
    }
    for (int pass = 0; pass < 3; ++pass) {
      const double slow = std::array<double, 3>{0.8, 1.0, 1.25}[static_cast<std::size_t>(pass)];
      json round = ph;
      round["pass"] = pass;
      for (auto& r : round["requests"]) {
        const double first = r["first_token_ns"].get<double>();
        r["finish_ns"] = first + slow * (r["finish_ns"].get<double>() - first);
      }
      phases.push_back(round);
    }
  }
  probe["phases"] = phases;
  const ProbeFit f = fit_probe(probe, "interleaved.json");
  ASSERT_EQ(f.decode_rows.size(), 8U);
  for (const auto& r : f.decode_rows) {
    EXPECT_EQ(r.requests, 3 * r.stage_concurrency) << r.phase << " c" << r.stage_concurrency;
    EXPECT_NEAR(r.x[1], r.stage_concurrency, 1e-9) << r.phase << " c" << r.stage_concurrency;
  }
  EXPECT_NEAR(f.decode.coef[0], 0.030, 0.030 * 0.01);
  EXPECT_NEAR(f.decode.coef[1], 0.004, 0.004 * 0.01);
  EXPECT_NEAR(f.decode.coef[2], 2e-6, 2e-6 * 0.01);
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

// A probe whose every decode request is `slow` times slower per token (its TTFTs unchanged).
json slowed_decode(json probe, double slow) {
  for (auto& ph : probe["phases"]) {
    if (ph["phase"] != "decode" && ph["phase"] != "decode-context") continue;
    for (auto& r : ph["requests"]) {
      const double first = r["first_token_ns"].get<double>();
      r["finish_ns"] = first + slow * (r["finish_ns"].get<double>() - first);
    }
  }
  return probe;
}

// Two probes bracketing a sweep, the second on a server 1.2x slower per token and with twice the decode
// requests (two rounds per stage): each stage's row is the mean of the two probes' medians, x1.1 (the
// median of the pooled requests would be the second probe's x1.2), so every decode coefficient is 1.1
// times the injected one (s, q, k are linear in the inter-token time). The lone TTFTs are the same in
// both, so the TTFT fit is unchanged.
TEST(ProbeMerge, BracketingProbesFitTheMeanSpeed) {
  json before = synthetic_probe();
  before["elapsed_s"] = 70.0;
  json after = slowed_decode(synthetic_probe(), 1.2);
  after["elapsed_s"] = 80.0;
  for (auto& ph : after["phases"]) {
    if (ph["phase"] != "decode" && ph["phase"] != "decode-context") continue;
    const json round = ph["requests"];
    for (json r : round) {  // a second round of the stage, 100 s later
      for (const char* t : {"arrival_ns", "first_token_ns", "finish_ns"}) r[t] = r[t].get<double>() + 100e9;
      ph["requests"].push_back(r);
    }
  }
  const json merged = merge_probes({{"before.json", before}, {"after.json", after}});
  EXPECT_EQ(merged["phases"].size(), before["phases"].size() + after["phases"].size());
  EXPECT_EQ(merged["phases"].front()["probe"], 0);
  EXPECT_EQ(merged["phases"].back()["probe"], 1);
  EXPECT_DOUBLE_EQ(merged["elapsed_s"].get<double>(), 150.0);
  EXPECT_EQ(merged["merged_from"], json({"before.json", "after.json"}));
  const ProbeFit f = fit_probe(merged, "before.json");
  EXPECT_NEAR(f.decode.coef[0], 1.1 * 0.030, 1.1 * 0.030 * 0.01);
  EXPECT_NEAR(f.decode.coef[1], 1.1 * 0.004, 1.1 * 0.004 * 0.01);
  EXPECT_NEAR(f.decode.coef[2], 1.1 * 2e-6, 1.1 * 2e-6 * 0.01);
  EXPECT_NEAR(f.ttft.coef[1], 0.0002, 0.0002 * 0.01);
  EXPECT_EQ(f.ttft.n, 2 * fit_probe(before, "before.json").ttft.n);  // both probes' lone requests
  EXPECT_TRUE(f.probe_complete);
  // One probe given alone is returned as it is.
  EXPECT_EQ(merge_probes({{"before.json", before}}), before);
}

// Probes of two endpoints are refused, naming the later file and the field; so is a file that is not a probe,
// and an incomplete probe makes the merged one incomplete with its reason.
TEST(ProbeMerge, RefusesProbesOfAnotherEndpoint) {
  json a = synthetic_probe();
  a["server_engine"] = {{"name", "vllm"}, {"version", "0.11.2"}};
  json b = a;
  b["server_engine"]["version"] = "0.10.0";
  try {
    (void)merge_probes({{"a.json", a}, {"b.json", b}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("b.json: server_engine.version"), std::string::npos) << e.what();
  }
  json c = a;
  c["protocol"] = "tgis";
  EXPECT_THROW((void)merge_probes({{"a.json", a}, {"c.json", c}}), ConfigError);
  try {
    (void)merge_probes({{"a.json", a}, {"x.json", json{{"schema", "servetwin.calibration.v1"}}}});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("x.json: schema"), std::string::npos) << e.what();
  }
  json partial = a;
  partial["complete"] = false;
  partial["partial_reason"] = "interrupted";
  const json m = merge_probes({{"a.json", a}, {"p.json", partial}});
  EXPECT_FALSE(m["complete"].get<bool>());
  EXPECT_EQ(m["partial_reason"], "p.json: interrupted");
}

// A probe whose prompt attention costs less per FLOP than its GEMMs (attention efficiency > 1 against
// the GEMM-implied peak; seen on a real CPU vLLM probe, 1.13) still gives a catalog that loads: the
// peak becomes the attention rate and the GEMMs keep their rate through gemm_eff_max < 1.
TEST(ProbeFit, AttentionFasterThanGemmsKeepsEfficienciesInRange) {
  const ProbeFit f = fit_probe(synthetic_probe(1e-10), "synthetic.json");
  const ProbeCatalogOptions o = tiny_llama_catalog_options("attn");
  (void)write_probe_catalog(f, o);
  std::ifstream fit_json(o.out_dir / "fit.json");
  const json doc = json::parse(fit_json);
  const json& c = doc["catalog"];
  EXPECT_DOUBLE_EQ(c["attn_prefill_flops_eff"].get<double>(), 1.0);
  const double gemm_eff = c["gemm_eff_max"].get<double>();
  EXPECT_GT(gemm_eff, 0.0);
  EXPECT_LT(gemm_eff, 1.0);
  // The GEMM rate is still the one the prompt-token slope implies: layer FLOPs per token / 0.2 ms.
  const Catalog cat = Catalog::load(o.out_dir / "catalog");
  const auto& m = cat.model("tiny-llama");
  const double h = m.hidden_size, hd = m.head_dim, q = m.num_attention_heads, kv = m.num_kv_heads;
  const double layer_flops = 2 * m.num_layers * (h * (q + 2 * kv) * hd + q * hd * h + 3 * h * m.intermediate_size);
  EXPECT_NEAR(c["peak_flops"].get<double>() * gemm_eff, layer_flops / f.ttft.coef[1], layer_flops / f.ttft.coef[1] * 1e-9);
  std::filesystem::remove_all(o.out_dir);
}

// The lone requests' TTFT spread goes into the engine preset as measured / fitted ratios, one per
// fitted lone request in probe order (sim/engine/front_end_spread.hpp samples them per request).
TEST(ProbeFit, CatalogCarriesTheLoneTtftSpread) {
  json p = synthetic_probe();
  // Make two lone requests slower than the TTFT line: +30% and +60% on the 200- and 900-token prompts.
  for (auto& r : p["phases"][0]["requests"]) {
    const double in = r["input_tokens"].get<double>();
    const double factor = in == 200 ? 1.3 : in == 900 ? 1.6 : 1.0;
    const double arrival = r["arrival_ns"].get<double>(), first = r["first_token_ns"].get<double>();
    r["first_token_ns"] = arrival + (first - arrival) * factor;
    r["finish_ns"] = r["first_token_ns"].get<double>() + 1e7;
  }
  const ProbeFit f = fit_probe(p, "synthetic.json");
  const ProbeCatalogOptions o = tiny_llama_catalog_options("spread");
  (void)write_probe_catalog(f, o);
  const Catalog cat = Catalog::load(o.out_dir / "catalog");
  EngineSettings settings(cat.engine("probe-engine"), {});
  const std::string text = settings.text("api_ttft_spread_ratios", "");
  std::vector<double> ratios;
  std::stringstream in(text);
  for (std::string cell; std::getline(in, cell, ',');) ratios.push_back(std::stod(cell));
  ASSERT_EQ(ratios.size(), f.ttft_rows.size());
  for (std::size_t i = 0; i < ratios.size(); ++i)
    EXPECT_NEAR(ratios[i], f.ttft_rows[i].measured_s / f.ttft_rows[i].predicted_s, 1e-4) << i;
  EXPECT_GT(*std::max_element(ratios.begin(), ratios.end()), 1.2);  // the slow lone requests show
  EXPECT_FALSE(FrontEndSpread::parse(text, "api_ttft_spread_ratios").empty());
  std::ifstream fit_json(o.out_dir / "fit.json");
  const json doc = json::parse(fit_json);
  EXPECT_EQ(doc["ttft_s"]["spread_ratios"].get<std::string>(), text);
  std::filesystem::remove_all(o.out_dir);
}

}  // namespace
}  // namespace servetwin::calibrate
