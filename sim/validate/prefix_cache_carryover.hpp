#pragma once
// What a vLLM V1 server's prefix cache still holds when a load stage begins, from the requests the same
// server ran before it (earlier stages of a live run). vLLM 0.11.2 (vllm/v1/core/block_pool.py,
// kv_cache_utils.py FreeKVCacheBlockQueue): one free queue of all blocks, never-used ones first; a new
// block is taken from the head, evicting the cached prefix block it held; a finished request's blocks are
// appended at the tail in reverse order; a prefix hit takes its blocks out of the queue; a prompt's full
// blocks are cached, and a hit covers at most input tokens - 1. The simulator's own block pool keeps
// cached blocks longer (it hands out never-cached blocks first, sim/engine/prefix_cache.hpp), so
// carrying every earlier prompt over would over-state the server's hits; this replays the server's
// queue instead and returns only the prompts whose blocks survived, least recently freed first.
#include <cstdint>
#include <vector>

#include "sim/core/time.hpp"

namespace servetwin {

struct PastRequest {
  TimeNs arrival_ns = 0, finish_ns = 0;
  std::int64_t prompt = -1;  // dataset prompt (prefix identity); < 0: never shared
  std::int64_t input_tokens = 0, output_tokens = 0;
};

struct CarriedPrefix {
  std::int64_t prompt = 0;
  std::int64_t cached_tokens = 0;  // leading full blocks still cached, in tokens
};

std::vector<CarriedPrefix> prefix_cache_carryover(std::vector<PastRequest> earlier, std::int64_t total_blocks,
                                                  std::int64_t block_size);

}  // namespace servetwin
