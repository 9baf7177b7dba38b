// A toy engine added the way any engine is: this one .cpp (the model, which registers its kind) and
// one preset YAML beside it (toy-serial.yaml), read from a test config directory. No other file in
// the tree names it; the test runs a closed-loop prediction through it (the same run_scenarios path
// as `servetwin predict`) and checks that the model's rules shaped the result.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_registry.hpp"
#include "sim/scenario/scenario.hpp"
#include "tests/sim/closed_loop_scenario.hpp"

namespace servetwin {
namespace {

namespace fs = std::filesystem;

// One request at a time, FIFO; a full queue rejects.
class ToySerialEngine final : public EngineBase {
 public:
  explicit ToySerialEngine(EngineBuildContext& c) : EngineBase(c.queue, c.listener, std::move(c.cost), "toy-serial") {
    max_queue_ = c.settings.integer("max_queue", 8, 0, 1000);
  }
  [[nodiscard]] EngineLimits limits() const override { return {1 << 20, 1 << 20, max_queue_ + 1}; }

 protected:
  Admission admit(SimRequest& req) override {
    if (static_cast<std::int64_t>(queue_.size()) >= max_queue_ + (current_ == nullptr ? 1 : 0)) {
      return {false, RequestStatus::kRejected, "RESOURCE_EXHAUSTED: toy queue full"};
    }
    queue_.push_back(&req);
    return {};
  }
  bool plan_step(TimeNs /*now*/, Step& step) override {
    if (current_ == nullptr) {
      if (queue_.empty()) return false;
      current_ = queue_.front();
      queue_.pop_front();
      const std::int64_t in = current_->in.input_tokens;
      step.items.push_back({current_, in, true});
      step.shape.prefill_seqs = 1;
      step.shape.prefill_tokens = in;
      step.shape.prefill_attn_pairs = static_cast<double>(in) * static_cast<double>(in + 1) / 2;
      step.shape.lm_head_tokens = 1;
      step.is_prefill_only = true;
      return true;
    }
    step.items.push_back({current_, 0, true});
    step.shape.decode_seqs = 1;
    step.shape.decode_kv_tokens = current_->context_len() + 1;
    step.shape.lm_head_tokens = 1;
    return true;
  }
  void on_step_done(const Step& /*step*/) override {
    if (current_ != nullptr && current_->done) current_ = nullptr;
  }
  void on_cancel(SimRequest& req) override {
    if (current_ == &req) current_ = nullptr;
    queue_.erase(std::remove(queue_.begin(), queue_.end(), &req), queue_.end());
  }
  [[nodiscard]] nlohmann::json engine_stats() const override { return {{"max_queue", max_queue_}}; }

 private:
  std::int64_t max_queue_ = 0;
  std::deque<SimRequest*> queue_;
  SimRequest* current_ = nullptr;
};

// Linked into the test executable as an object file, so a static registration object is kept
// (sim/engine/engine_registry.hpp explains why engines inside sim/ use the generated list instead).
const EngineRegistration kToySerial{{"toy-serial", "one request at a time (test engine)", [](EngineBuildContext& c) {
                                       return std::make_unique<ToySerialEngine>(c);
                                     }}};

// The shipped catalog plus the toy preset, in a temporary config directory.
fs::path toy_config_dir() {
  const fs::path dir = fs::temp_directory_path() / ("servetwin_toy_engine_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(fs::path(SERVETWIN_SOURCE_DIR) / "configs", dir, fs::copy_options::recursive);
  fs::copy_file(fs::path(SERVETWIN_SOURCE_DIR) / "tests/sim/toy_engine/toy-serial.yaml", dir / "engines/toy-serial.yaml");
  return dir;
}

TEST(ToyEngine, OneCppAndOneYamlMakeAnEngineThatPredictRuns) {
  const fs::path dir = toy_config_dir();
  const Catalog catalog = Catalog::load(dir);
  fs::remove_all(dir);
  const auto kinds = engine_registry().names();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "toy-serial"), kinds.end());

  // Two closed-loop users against a server that holds one request and queues up to four.
  const Scenario s = testing_scenarios::closed_loop_scenario("llama-2-7b", "A100-80GB-SXM", "toy-serial", 128, 16, 2, 5);
  const auto runs = run_scenarios(catalog, {resolve_scenario(catalog, s)}, 1, true, false);
  ASSERT_EQ(runs.size(), 1U);
  ASSERT_EQ(runs[0].error, "");
  const StageResult& stage = runs[0].stages.at(0);
  EXPECT_EQ(stage.engine_stats.at("engine"), "toy-serial");
  EXPECT_EQ(stage.engine_stats.at("batch").at("max"), 1);  // the toy's rule: one request per step
  EXPECT_EQ(stage.engine_stats.at("settings").at("max_queue").at("value"), 4);          // from the YAML
  EXPECT_EQ(stage.engine_stats.at("settings").at("cpu_step_ns").at("from"), "preset");  // common cost setting
  ASSERT_GT(stage.records.size(), 2U);
  for (const RequestRecord& r : stage.records) {
    if (r.status != RequestStatus::kOk) continue;
    EXPECT_EQ(r.output_tokens, 16);
  }
  // Served one at a time: no two requests are ever in a step together, so their token spans
  // (first token to finish) never overlap.
  std::vector<std::pair<TimeNs, TimeNs>> spans;
  for (const RequestRecord& r : stage.records) {
    if (r.status == RequestStatus::kOk) spans.emplace_back(r.first_token_ns, r.finish_ns);
  }
  std::sort(spans.begin(), spans.end());
  for (std::size_t i = 1; i < spans.size(); ++i) EXPECT_GT(spans[i].first, spans[i - 1].second);
}

TEST(ToyEngine, UnknownEngineKindNamesThePresetAndTheRegisteredKinds) {
  const fs::path dir = toy_config_dir();
  std::stringstream text;
  text << std::ifstream(dir / "engines/toy-serial.yaml").rdbuf();
  std::string yaml = text.str();
  yaml.replace(yaml.find("engine: toy-serial"), 18, "engine: triton");
  std::ofstream(dir / "engines/toy-serial.yaml") << yaml;
  const Catalog catalog = Catalog::load(dir);
  fs::remove_all(dir);
  const Scenario s = testing_scenarios::closed_loop_scenario("llama-2-7b", "A100-80GB-SXM", "toy-serial", 128, 16, 1, 1);
  try {
    (void)run_stage(catalog, resolve_scenario(catalog, s), 0, false);
    FAIL() << "an unregistered engine kind must be refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("engine preset 'toy-serial': key 'engine': 'triton' is not an engine of this "
                                         "build; allowed: "),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("tgi, tgis, toy-serial, vllm"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace servetwin
