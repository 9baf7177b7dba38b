// The parsers' in-memory entry points (what the fuzz targets call, issue 20): each file reader reads
// the file and hands its text to the same function, so a file and its text give the same result, and
// an error names the display name it was given. (The published-CSV reader, in calibrate/, is
// covered by its fuzz replay.)
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "sim/catalog/catalog.hpp"
#include "sim/formats/live_run_reader.hpp"
#include "sim/scenario/scenario_file.hpp"
#include "sim/workload/dataset.hpp"
#include "sim/workload/trace.hpp"

namespace servetwin {
namespace {

const std::filesystem::path kSource = SERVETWIN_SOURCE_DIR;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The message of the ConfigError `f` throws ("" when it throws none).
template <typename F>
std::string config_error_of(F f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(ParserTextEntry, TraceTextMatchesFileAndNamesTheInput) {
  const auto file = kSource / "examples/poisson_r5_n500_p512_o128_s42.csv";
  std::istringstream text(slurp(file));
  const auto from_text = parse_trace_csv(text, "mem.csv");
  const auto from_file = load_trace_csv(file);
  ASSERT_EQ(from_text.size(), from_file.size());
  EXPECT_EQ(from_text.back().arrived_at_s, from_file.back().arrived_at_s);
  EXPECT_EQ(from_text.back().output_tokens, from_file.back().output_tokens);
  std::istringstream bad("arrived_at,num_prefill_tokens,num_decode_tokens\n0,5abc,1\n");
  EXPECT_NE(config_error_of([&] { parse_trace_csv(bad, "mem.csv"); }).find("mem.csv:2: column 'num_prefill_tokens'"),
            std::string::npos);
}

TEST(ParserTextEntry, ScenarioTextMatchesFileAndAnchorsRelativePaths) {
  const auto file = kSource / "configs/scenarios/seed-article-table2.yaml";
  const auto from_text = parse_scenario_text(slurp(file), file);
  const auto from_file = load_scenario_file(file);
  ASSERT_EQ(from_text.size(), from_file.size());
  EXPECT_EQ(from_text[0].name, from_file[0].name);
  EXPECT_EQ(from_text[0].load.levels, from_file[0].load.levels);
  const auto rel = parse_scenario_text("kind: scenario\ntrace: t.csv\ndeployments: [{model: m}]\n", "dir/s.yaml");
  EXPECT_EQ(rel[0].trace_path, (std::filesystem::path("dir") / "t.csv").string());
  EXPECT_NE(config_error_of([] { parse_scenario_text("kind: [", "mem.yaml"); }).find("mem.yaml:"), std::string::npos);
}

TEST(ParserTextEntry, DatasetTextNamesTheInput) {
  const std::string v2 = "{\"name\": \"d\"}\n{\"tok_input_length\": 5, \"tok_output_length\": 7}\n";
  const auto ds = parse_dataset(v2, "dir/d.jsonl", "llama2");
  ASSERT_EQ(ds.samples.size(), 1U);
  EXPECT_EQ(ds.samples[0].output_tokens, 7);
  EXPECT_NE(config_error_of([] { parse_dataset("{}\n{\"tok_input_length\": 5}\n", "dir/d.jsonl", "x"); })
                .find("dir/d.jsonl:2: field 'tok_output_length'"),
            std::string::npos);
}

TEST(ParserTextEntry, LiveRunTextNeedsRequestsAfterTheSummaryChecks) {
  LiveRunTexts texts;
  texts.summary_json = "{\"schema_version\": \"1.0\", \"producer\": \"sim\"}";
  // The summary's own error comes first, as when the directory is read.
  EXPECT_NE(config_error_of([&] { parse_live_run("run", texts); }).find("field 'producer'"), std::string::npos);
  texts.summary_json = R"({"schema_version": "1.0", "producer": "live", "scenarios": [{"resolved_config": {},
      "stages": [{"load": {"concurrency": 2}, "window": {"start_ns": 0, "end_ns": 10}}]}]})";
  EXPECT_NE(config_error_of([&] { parse_live_run("run", texts); }).find("requests.csv: cannot open"), std::string::npos);
  texts.requests_csv = std::string(request_csv_header()) + "\n0,1,0,0,5,7,0,0,1,2,3,ok,length,0,\n";
  const LiveRun run = parse_live_run("run", texts);
  ASSERT_EQ(run.requests.size(), 1U);
  EXPECT_EQ(run.requests[0].output_tokens, 7);
  EXPECT_TRUE(run.warmup.empty());
}

TEST(ParserTextEntry, CatalogFromTextsChecksKindsAndNamesTheFile) {
  Catalog::Texts files;
  files["gpus"].emplace_back("mem/gpus/x.yaml", "kind: model\nname: x\n");
  EXPECT_NE(config_error_of([&] { (void)Catalog::from_texts("mem", files); }).find("mem/gpus/x.yaml:1: key 'kind'"),
            std::string::npos);
  files.clear();
  files["gpu-typo"].emplace_back("x.yaml", "kind: gpu\n");
  EXPECT_NE(config_error_of([&] { (void)Catalog::from_texts("mem", files); }).find("unknown catalog kind"),
            std::string::npos);
  // The shipped catalog read as texts equals the catalog read from its directory.
  files.clear();
  const Catalog shipped = Catalog::load(kSource / "configs");
  for (const auto& kind : Catalog::kinds()) {
    for (const auto& entry : std::filesystem::directory_iterator(kSource / "configs" / kind)) {
      if (entry.is_regular_file() && entry.path().extension() == ".yaml") files[kind].emplace_back(entry.path().string(), slurp(entry.path()));
    }
    std::sort(files[kind].begin(), files[kind].end());
  }
  const Catalog from_texts = Catalog::from_texts(kSource / "configs", files);
  for (const auto& kind : Catalog::kinds()) {
    ASSERT_EQ(from_texts.names(kind), shipped.names(kind)) << kind;
    for (const auto& name : shipped.names(kind)) EXPECT_EQ(from_texts.document(kind, name), shipped.document(kind, name));
  }
}

}  // namespace
}  // namespace servetwin
