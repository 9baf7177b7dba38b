#pragma once
// Shared by the scheduler-table tests (tgi_scheduler_test.cpp, vllm_scheduler_test.cpp): one row per
// engine step listing which requests ran with how many prompt tokens, who emitted a token, and the
// engine's free capacity after planning (TGI: tokens of the batch budget; vLLM: KV blocks).
#include <cstdint>
#include <map>
#include <ostream>
#include <vector>

#include "sim/engine/serving_sim.hpp"

namespace servetwin::testing_tables {

struct Item {
  std::uint64_t id;
  std::int64_t tokens;  // prompt tokens computed this step; 0 = decode
  bool emits;
  bool operator==(const Item& o) const { return id == o.id && tokens == o.tokens && emits == o.emits; }
};

struct Row {
  std::vector<Item> items;
  std::int64_t free;  // free capacity after planning, in the engine's unit
  bool operator==(const Row& o) const { return items == o.items && free == o.free; }
};

inline std::ostream& operator<<(std::ostream& os, const Row& r) {
  os << "{";
  for (const auto& i : r.items) os << "(" << i.id << "," << i.tokens << "," << (i.emits ? "E" : "-") << ")";
  return os << " free=" << r.free << "}";
}

// A request that generates exactly `out` tokens (max_new = min_new = out), optionally sharing the first
// `shared` prompt tokens with its prefix group.
inline RequestInput fixed_request(std::uint64_t id, std::int64_t in, std::int64_t out, std::int64_t group = -1,
                                  std::int64_t shared = 0) {
  RequestInput r;
  r.id = id;
  r.input_tokens = in;
  r.output_tokens = out;
  r.max_new_tokens = out;
  r.min_new_tokens = out;
  r.prefix_group = group;
  r.shared_prefix_tokens = shared;
  return r;
}

// Keeps every finished request's record by id.
class Recorder : public SimListener {
 public:
  void on_request_done(const RequestRecord& r) override { done[r.request_id] = r; }
  std::map<std::uint64_t, RequestRecord> done;
};

}  // namespace servetwin::testing_tables
