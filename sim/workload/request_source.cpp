#include "sim/workload/request_source.hpp"

#include <boost/random/uniform_int_distribution.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "sim/workload/length_dist.hpp"

namespace servetwin {
namespace {

// Fisher-Yates with Boost's uniform_int_distribution: portable, unlike std::shuffle.
void portable_shuffle(std::vector<std::size_t>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    boost::random::uniform_int_distribution<std::size_t> pick(0, i - 1);
    std::swap(v[i - 1], v[pick(rng)]);
  }
}

class DatasetSource final : public RequestSource {
 public:
  DatasetSource(Dataset ds, std::uint64_t seed, int stage, DatasetWalk walk)
      : ds_(std::move(ds)),
        seed_(seed),
        stage_(stage),
        walk_(walk),
        open_rng_(make_rng(seed, walk == DatasetWalk::kFromEnd ? "dataset-open-warmup" : "dataset-open", stage)) {}

  RequestShape next_for_user(std::int64_t user) override {
    auto& st = users_[user];
    if (st.pos >= st.order.size()) {
      // A new seeded pass in random order, as each llm-load-test user walks the dataset.
      if (st.order.empty()) {
        st.rng = make_rng(seed_, "dataset-order", static_cast<std::uint64_t>(stage_) * 1000003ULL +
                                                      static_cast<std::uint64_t>(user));
        st.order.resize(ds_.samples.size());
      }
      std::iota(st.order.begin(), st.order.end(), 0);
      portable_shuffle(st.order, st.rng);
      st.pos = 0;
    }
    const std::size_t k = st.pos++;
    return shape(walk_ == DatasetWalk::kFromEnd ? st.order[st.order.size() - 1 - k] : st.order[k]);
  }

  RequestShape next_open() override {
    boost::random::uniform_int_distribution<std::size_t> pick(0, ds_.samples.size() - 1);
    return shape(pick(open_rng_));
  }

  [[nodiscard]] std::string describe() const override {
    return fmt::format("dataset {} ({} samples, {}; input tokens: {})", ds_.name, ds_.samples.size(), ds_.format,
                       ds_.token_count_source);
  }
  [[nodiscard]] double mean_input_tokens() const override { return mean([](const PromptSample& s) { return s.input_tokens; }); }
  [[nodiscard]] double mean_output_tokens() const override { return mean([](const PromptSample& s) { return s.output_tokens; }); }

 private:
  struct UserState {
    Rng rng;
    std::vector<std::size_t> order;
    std::size_t pos = 0;
  };
  [[nodiscard]] RequestShape shape(std::size_t index) const {
    const PromptSample& s = ds_.samples[index];
    return RequestShape{s.input_tokens, s.output_tokens, -1, 0, static_cast<std::int64_t>(index)};
  }
  template <class F>
  double mean(F f) const {
    double sum = 0;
    for (const auto& s : ds_.samples) sum += static_cast<double>(f(s));
    return sum / static_cast<double>(ds_.samples.size());
  }

  Dataset ds_;
  std::uint64_t seed_;
  int stage_;
  DatasetWalk walk_;
  Rng open_rng_;
  std::map<std::int64_t, UserState> users_;
};

class SyntheticSource final : public RequestSource {
 public:
  SyntheticSource(LengthDist in, LengthDist out, std::uint64_t seed, int stage)
      : in_(std::move(in)), out_(std::move(out)), rng_(make_rng(seed, "synthetic-lengths", static_cast<std::uint64_t>(stage))) {}
  RequestShape next_for_user(std::int64_t /*user*/) override { return next_open(); }
  RequestShape next_open() override {
    const auto i = draw_length(in_, rng_);
    const auto o = draw_length(out_, rng_);
    return RequestShape{i, o, -1, 0, -1};
  }
  [[nodiscard]] std::string describe() const override {
    return fmt::format("synthetic input {}({}, sd {}) output {}({}, sd {})", in_.kind, in_.mean, in_.stddev, out_.kind,
                       out_.mean, out_.stddev);
  }
  [[nodiscard]] double mean_input_tokens() const override { return in_.mean; }
  [[nodiscard]] double mean_output_tokens() const override { return out_.mean; }

 private:
  LengthDist in_, out_;
  Rng rng_;
};

class SharedPrefixSource final : public RequestSource {
 public:
  SharedPrefixSource(const WorkloadSpec& w, std::uint64_t seed, int stage)
      : w_(w), rng_(make_rng(seed, "shared-prefix", static_cast<std::uint64_t>(stage))) {}
  RequestShape next_for_user(std::int64_t user) override {
    if (w_.prompts_in_rotation > 0) return next_in_rotation();
    const std::int64_t users = std::max(1, w_.num_groups * std::max(1, w_.users_per_group));
    const std::int64_t group = (user % users) / std::max(1, w_.users_per_group);
    return make(group);
  }
  RequestShape next_open() override {
    if (w_.prompts_in_rotation > 0) return next_in_rotation();
    boost::random::uniform_int_distribution<std::int64_t> pick(0, std::max(1, w_.num_groups) - 1);
    return make(pick(rng_));
  }
  [[nodiscard]] std::string describe() const override {
    const std::string rotation =
        w_.prompts_in_rotation > 0 ? fmt::format(", {} whole prompts sent in rotation", w_.prompts_in_rotation) : "";
    return fmt::format("shared_prefix {}: {} groups x {} users, system {} + question {} -> {} tokens{}", w_.name,
                       w_.num_groups, w_.users_per_group, w_.system_prompt_tokens, w_.question_tokens, w_.output_tokens,
                       rotation);
  }
  [[nodiscard]] double mean_input_tokens() const override { return w_.system_prompt_tokens + w_.question_tokens; }
  [[nodiscard]] double mean_output_tokens() const override { return w_.output_tokens; }

 private:
  RequestShape make(std::int64_t group) const {
    return RequestShape{w_.system_prompt_tokens + w_.question_tokens, w_.output_tokens, group, w_.system_prompt_tokens, -1};
  }
  // inference-perf sends its pre-generated prompts in order (data_index % len(prompts)): the k-th request
  // repeats prompt k mod N verbatim, so the whole prompt, not only the system prompt, is a cacheable prefix.
  // Each prompt is its own prefix group: the system prompt shared between the prompts of one group is
  // cached once per prompt instead of once per group, which differs only while the first N requests run.
  RequestShape next_in_rotation() {
    const std::int64_t prompt = sent_ % w_.prompts_in_rotation;
    ++sent_;
    const std::int64_t tokens = w_.system_prompt_tokens + w_.question_tokens;
    return RequestShape{tokens, w_.output_tokens, prompt, tokens, -1};
  }
  WorkloadSpec w_;
  Rng rng_;
  std::int64_t sent_ = 0;  // requests drawn so far (the rotation index)
};

}  // namespace

int stage_stream_id(double level) { return static_cast<int>(std::llround(level * 1000.0)); }

std::unique_ptr<RequestSource> make_dataset_source(Dataset ds, std::uint64_t seed, int stage, DatasetWalk walk) {
  return std::make_unique<DatasetSource>(std::move(ds), seed, stage, walk);
}
std::unique_ptr<RequestSource> make_synthetic_source(const LengthDist& input, const LengthDist& output,
                                                     std::uint64_t seed, int stage) {
  return std::make_unique<SyntheticSource>(input, output, seed, stage);
}
std::unique_ptr<RequestSource> make_shared_prefix_source(const WorkloadSpec& w, std::uint64_t seed, int stage) {
  return std::make_unique<SharedPrefixSource>(w, seed, stage);
}

}  // namespace servetwin
