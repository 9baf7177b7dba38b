#pragma once
// Where request lengths come from: a dataset (llm-load-test), synthetic distributions, the
// inference-perf shared-prefix spec, or a trace. Closed-loop users draw from their own seeded,
// shuffled pass over the dataset, as llm-load-test users do; open-loop arrivals draw at random.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/catalog/specs.hpp"
#include "sim/core/rng.hpp"
#include "sim/workload/dataset.hpp"

namespace servetwin {

struct RequestShape {
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t prefix_group = -1;
  std::int64_t shared_prefix_tokens = 0;
  // Dataset sources: the index of the sample drawn (a live run sends its text); -1 otherwise.
  std::int64_t sample_index = -1;
};

// The random-stream index of a stage at load level `level` (users or requests/s). Keyed by the
// level, not the stage's position in the list, so a level gives the same requests and arrivals
// whether it runs alone or inside a sweep, in `predict` and in `load` alike.
int stage_stream_id(double level);

class RequestSource {
 public:
  virtual ~RequestSource() = default;
  // Next request of closed-loop user `user` (each user has its own sequence).
  virtual RequestShape next_for_user(std::int64_t user) = 0;
  // Next open-loop request.
  virtual RequestShape next_open() = 0;
  [[nodiscard]] virtual std::string describe() const = 0;
  // Mean lengths, for reports.
  [[nodiscard]] virtual double mean_input_tokens() const = 0;
  [[nodiscard]] virtual double mean_output_tokens() const = 0;
};

// Dataset samples; `seed` and `stage` select the RNG streams.
// kFromEnd: each user walks the same seeded permutation as kFromStart, from its last sample back,
// so a runner's warm-up requests (kFromEnd) never send a prompt its measured requests (kFromStart,
// predict's sequence) send, while a user's warm-ups and measured requests together stay within one
// pass; a repeated prompt would be a prefix-cache hit on the server and distort what is measured.
enum class DatasetWalk { kFromStart, kFromEnd };
std::unique_ptr<RequestSource> make_dataset_source(Dataset ds, std::uint64_t seed, int stage,
                                                   DatasetWalk walk = DatasetWalk::kFromStart);
std::unique_ptr<RequestSource> make_synthetic_source(const LengthDist& input, const LengthDist& output,
                                                     std::uint64_t seed, int stage);
// inference-perf shared_prefix: `groups` system prompts, each shared by `users_per_group` users.
std::unique_ptr<RequestSource> make_shared_prefix_source(const WorkloadSpec& w, std::uint64_t seed, int stage);

}  // namespace servetwin
