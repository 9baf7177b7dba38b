// Engine kind `sglang`: SGLang's scheduler (sgl-project/sglang, python/sglang/srt/managers/scheduler.py,
// schedule_policy.py, schedule_batch.py; defaults in server_args.py). Rules, as the 0.3-0.5 code has them:
//  - KV: one token pool (page size 1) of (mem_fraction_static x memory at start - weights) / KV bytes per
//    token (model_runner.profile_max_num_token); a radix tree keeps finished prefixes, evictable
//    leaf-first by LRU. Modelled on BlockPool with 1-token blocks: a request's shared prefix
//    (prefix_group) is the cached path, its private tokens are freed at its end.
//  - Limits: max_running_requests = min(max_total_tokens / 2, clamp(max_total_tokens / context_len x 512,
//    2048, 4096)) unless set; prefill batches hold at most max_prefill_tokens input tokens and at most
//    chunked_prefill_size tokens, a longer prompt is cut into chunks (one chunked request at a time).
//  - Prefill first: each iteration first tries a prefill batch (the chunked request, then waiting requests
//    in policy order: lpm = longest cached prefix first, FCFS once more than 128 wait); only when none can
//    be formed do the running requests decode. Prefill and decode are never mixed (enable_mixed_chunk off).
//  - Admission (PrefillAdder): a request is added while its prompt plus min(max_new_tokens, 4096) stays
//    below rem_total_tokens = free + evictable tokens - sum over running requests of
//    min(remaining max_new_tokens, 4096) x new_token_ratio, less what this batch already took.
//  - new_token_ratio starts at min(0.7 x schedule_conservativeness, 1), falls by (init - min) / 600 per
//    decode step to min = init x 0.14, and returns to init when the engine idles.
//  - Retraction (check_decode_mem / retract_decode): when the pool cannot give every running request one
//    token, requests with the fewest output tokens (then the longest prompt) go back to the queue until
//    the pool holds 20 tokens per remaining request; their cached prefix stays in the tree, the rest is
//    recomputed; new_token_ratio becomes min(1, (decoded + 20 x n) / sum of max_new_tokens) over the n left.
//  - Cost: decode replays CUDA graphs (cuda_graph_decode), per-step and per-sequence CPU time overlap the
//    GPU (overlap_schedule, 0.4+); decode batches above cuda_graph_max_bs run eagerly in SGLang: counted in
//    stats (the cost model has one graph flag; the execution-mode model will price them).
// Not modelled: the overlap scheduler's one-step-late view of finished requests; in-batch prefix
// deprioritisation; retracted requests re-enter at the queue head (PagedCommit::preempt), where SGLang
// appends them (the lpm sort reorders the queue anyway).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/batch_planner.hpp"
#include "sim/engine/capacity_policy.hpp"
#include "sim/engine/engine_registry.hpp"
#include "sim/engine/paged_state.hpp"

namespace servetwin {

namespace {

// schedule_policy.py: the per-request output estimate is clipped (SGLANG_CLIP_MAX_NEW_TOKENS_ESTIMATION).
constexpr std::int64_t kClipMaxNewTokens = 4096;
// global_config.py: retract_decode_steps; lpm falls back to FCFS above 128 waiting requests.
constexpr std::int64_t kRetractDecodeSteps = 20;
constexpr std::size_t kLpmMaxQueue = 128;

struct SglangRules {
  std::int64_t max_prefill_tokens = 16384;
  std::int64_t chunked_prefill_size = 8192;  // <= 0: chunking off
  bool lpm = true;
  double init_ratio = 0.7, min_ratio = 0.098, ratio_decay = 0;
  std::int64_t cuda_graph_max_bs = 160;
};

std::int64_t clipped_new(const SimRequest& r) {
  return std::min(r.max_new_tokens - r.generated, kClipMaxNewTokens);
}

// The batch stage: one prefill batch or one decode batch per iteration (SGLang event loop).
class SglangPlanner final : public PagedPlanner {
 public:
  explicit SglangPlanner(const SglangRules& rules) : rules_(rules), ratio_(rules.init_ratio) {}
  [[nodiscard]] const char* name() const override { return "sglang"; }
  [[nodiscard]] double new_token_ratio() const { return ratio_; }
  [[nodiscard]] std::uint64_t retractions() const { return retractions_; }
  [[nodiscard]] std::uint64_t decode_steps_above_graph() const { return above_graph_; }

 protected:
  bool plan_on(const PagedState& state, PagedCommit& commit, Step& step) override {
    if (plan_prefill(state, commit, step)) return true;
    if (plan_decode(state, commit, step)) return true;
    ratio_ = rules_.init_ratio;  // idle: the scheduler re-initialises new_token_ratio
    return false;
  }

 private:
  [[nodiscard]] static bool prefilling(const PagedState& state, const SimRequest* r) {
    const PagedSeq& s = state.seq(r);
    return s.computed < s.prefill_target;
  }
  // Waiting requests in policy order: lpm sorts by cached prefix length, longest first (stable).
  [[nodiscard]] std::vector<SimRequest*> candidates(const PagedState& state) const {
    std::vector<SimRequest*> order(state.waiting().begin(), state.waiting().end());
    if (!rules_.lpm || order.size() > kLpmMaxQueue || !state.pool().caching()) return order;
    std::vector<std::pair<std::int64_t, SimRequest*>> keyed;
    keyed.reserve(order.size());
    for (SimRequest* r : order) {
      keyed.emplace_back(state.pool().cached_prefix_blocks(r->in.prefix_group, state.shareable_blocks(*r)), r);
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t i = 0; i < keyed.size(); ++i) order[i] = keyed[i].second;
    return order;
  }

  // PrefillAdder budgets of one prefill batch.
  struct Budget {
    double rem_total = 0;             // tokens: free + evictable - running reservations - taken
    std::int64_t cur_rem = 0;         // tokens free now, less the prompts taken
    std::int64_t rem_input = 0;       // max_prefill_tokens left
    std::int64_t rem_chunk = 0;       // chunked_prefill_size left (huge when chunking is off)
    [[nodiscard]] bool open() const { return rem_total > 0 && cur_rem > 0 && rem_input > 0 && rem_chunk > 0; }
  };

  Budget start_budget(const PagedState& state, const SimRequest* chunked) const {
    Budget b;
    b.cur_rem = state.free_blocks();  // page size 1: blocks are tokens; evictable cached tokens count
    double reserved = 0;
    for (const SimRequest* r : state.running()) {
      if (r != chunked) reserved += static_cast<double>(clipped_new(*r)) * ratio_;
    }
    b.rem_total = static_cast<double>(b.cur_rem) - reserved;
    b.rem_input = rules_.max_prefill_tokens;
    b.rem_chunk = rules_.chunked_prefill_size > 0 ? rules_.chunked_prefill_size : INT64_MAX / 4;
    return b;
  }

  static void take(Budget& b, std::int64_t tokens, std::int64_t reserve_new) {
    b.rem_total -= static_cast<double>(tokens + reserve_new);
    b.cur_rem -= tokens;
    b.rem_input -= tokens;
    b.rem_chunk -= tokens;
  }

  bool plan_prefill(const PagedState& state, PagedCommit& commit, Step& step) {
    SimRequest* chunked = nullptr;
    for (SimRequest* r : state.running()) {
      if (prefilling(state, r)) chunked = r;
    }
    const auto running = static_cast<std::int64_t>(state.running().size());
    if (chunked == nullptr && (state.waiting().empty() || running >= state.limits().max_num_seqs)) return false;
    Budget b = start_budget(state, chunked);
    if (chunked != nullptr) {  // add_chunked_req: the next chunk, reserving outputs only on the last one
      const PagedSeq& s = state.seq(chunked);
      const std::int64_t n = std::min(s.prefill_target - s.computed, b.rem_chunk);
      commit.grow(chunked, state.blocks_for(s.computed + n));
      add_paged_item(state, step, chunked, n);
      take(b, n, s.computed + n >= s.prefill_target ? std::min(chunked->max_new_tokens, kClipMaxNewTokens) : 0);
    }
    std::int64_t added = 0;
    for (SimRequest* r : candidates(state)) {
      if (running + added >= state.limits().max_num_seqs || !b.open()) break;
      if (!add_one(state, commit, step, b, r, added)) break;
    }
    return !step.items.empty();
  }

  // add_one_req: false stops the batch (NO_TOKEN or OTHER).
  bool add_one(const PagedState& state, PagedCommit& commit, Step& step, Budget& b, SimRequest* r, std::int64_t& added) {
    const PagedSeq& s = state.seq(r);
    const std::int64_t hit = state.pool().caching()
                                 ? state.pool().cached_prefix_blocks(r->in.prefix_group,
                                                                     std::min(state.shareable_blocks(*r), s.prefill_target - 1))
                                 : 0;
    const std::int64_t extend = s.prefill_target - hit;
    const std::int64_t reserve_new = std::min(r->max_new_tokens - r->generated, kClipMaxNewTokens);
    if (static_cast<double>(extend + reserve_new) >= b.rem_total) return false;  // NO_TOKEN
    if (extend > b.rem_input && !step.items.empty()) return false;                // OTHER
    // Locking the matched prefix takes its evictable tokens out of the free count.
    const double locked = static_cast<double>(state.pool().hit_cost(r->in.prefix_group, hit));
    if (static_cast<double>(extend + reserve_new) > b.rem_total - locked) return false;
    std::int64_t n = 0;
    if (!commit.try_admit(r, std::min(extend, b.rem_chunk), 0, n)) return false;
    commit.remove(r);
    commit.push_running(r);
    add_paged_item(state, step, r, n);
    b.rem_total -= locked;
    b.cur_rem -= static_cast<std::int64_t>(locked);
    take(b, n, n < extend ? 0 : reserve_new);
    ++added;
    return n == extend;  // a chunked request ends the batch
  }

  bool plan_decode(const PagedState& state, PagedCommit& commit, Step& step) {
    if (state.running().empty()) return false;
    const auto bs = static_cast<std::int64_t>(state.running().size());
    if (state.free_blocks() < bs) {
      retract(state, commit);
    } else {
      ratio_ = std::max(ratio_ - rules_.ratio_decay, rules_.min_ratio);
    }
    for (SimRequest* r : state.running()) {
      commit.grow(r, state.blocks_for(state.seq(r).computed + 1));
      add_paged_item(state, step, r, 1);
    }
    if (static_cast<std::int64_t>(step.items.size()) > rules_.cuda_graph_max_bs) ++above_graph_;
    return !step.items.empty();
  }

  void retract(const PagedState& state, PagedCommit& commit) {
    // Fewest output tokens first, then the longest prompt (retract_decode's sort, popped from its end).
    std::vector<SimRequest*> order(state.running().begin(), state.running().end());
    std::stable_sort(order.begin(), order.end(), [](const SimRequest* a, const SimRequest* b) {
      if (a->generated != b->generated) return a->generated < b->generated;
      return a->in.input_tokens > b->in.input_tokens;
    });
    std::size_t next = 0;
    while (order.size() - next > 1 &&
           state.free_blocks() < static_cast<std::int64_t>(order.size() - next) * kRetractDecodeSteps) {
      commit.preempt(order[next++]);
      ++retractions_;
    }
    double decoded = 0, max_new = 0;
    for (const SimRequest* r : state.running()) {
      decoded += static_cast<double>(r->generated);
      max_new += static_cast<double>(r->max_new_tokens);
    }
    const double left = static_cast<double>(state.running().size());
    ratio_ = max_new > 0 ? std::min(1.0, (decoded + static_cast<double>(kRetractDecodeSteps) * left) / max_new) : 1.0;
  }

  SglangRules rules_;
  double ratio_;
  std::uint64_t retractions_ = 0, above_graph_ = 0;
};

class SglangEngine final : public EngineBase {
 public:
  SglangEngine(EngineBuildContext& c)
      : EngineBase(c.queue, c.listener, std::move(c.cost), "sglang") {
    EngineSettings& s = c.settings;
    const SglangRules rules = read_rules(c.gpu, s);
    capacity_ = make_capacity_policy("max_utilization");
    auto planner = std::make_unique<SglangPlanner>(rules);
    planner_ = planner.get();
    planner_owner_ = std::move(planner);
    BlockPool pool = size_token_pool(c.model, c.gpu, s);
    kv_ = KvLedger("tokens", static_cast<double>(pool.total()));
    commit_.configure(limits_, *capacity_, std::move(pool));
    (void)s.text("fitted_on", "none");
  }

  [[nodiscard]] EngineLimits limits() const override { return EngineLimits{context_len_, max_req_input_len_, 0}; }

 protected:
  Admission admit(SimRequest& req) override {
    const std::int64_t in = req.in.input_tokens;
    if (in <= 0) return {false, RequestStatus::kRejected, "INVALID_ARGUMENT: empty prompt"};
    if (in > max_req_input_len_) {
      return {false, RequestStatus::kRejected, "INVALID_ARGUMENT: input is longer than the context or the KV pool"};
    }
    req.max_new_tokens = std::max<std::int64_t>(1, std::min(req.in.max_new_tokens, context_len_ - in));
    commit_.open(req, in);
    commit_.enqueue(&req);
    return {};
  }

  bool plan_step(TimeNs /*now*/, Step& step) override {
    const bool any = planner_->plan(state_, commit_, step);
    step.is_prefill_only = any && step.shape.decode_seqs == 0;
    kv_.set_used(static_cast<double>(state_.pool().used()), now());
    return any;
  }

  void on_step_done(const Step& step) override {
    bool any_done = false;
    for (const auto& item : step.items) {
      SimRequest* r = item.req;
      commit_.advance(r, item.prefill_tokens > 0 ? item.prefill_tokens : 1);
      if (r->done && !r->cancelled) {
        any_done = true;
        commit_.close(*r);
      }
    }
    if (any_done) commit_.drop_finished();
    kv_.set_used(static_cast<double>(state_.pool().used()), now());
  }

  void on_cancel(SimRequest& req) override {
    if (state_.seq(&req).req != &req) return;
    commit_.close(req);
    commit_.remove(&req);
    kv_.set_used(static_cast<double>(state_.pool().used()), now());
  }

  [[nodiscard]] nlohmann::json engine_stats() const override {
    const std::uint64_t hits = state_.hit_tokens(), prompts = state_.prompt_tokens();
    return {{"scheduler", "sglang"},
            {"max_total_tokens", state_.total_blocks()},
            {"max_running_requests", limits_.max_num_seqs},
            {"mem_fraction_static", mem_fraction_static_},
            {"context_len", context_len_},
            {"retractions", planner_->retractions()},
            {"new_token_ratio_final", planner_->new_token_ratio()},
            {"decode_steps_above_cuda_graph_max_bs", planner_->decode_steps_above_graph()},
            {"prefix_cache_hit_tokens", hits},
            {"prompt_tokens", prompts},
            {"prefix_cache_hit_rate", prompts > 0 ? static_cast<double>(hits) / static_cast<double>(prompts) : 0.0},
            {"cached_token_evictions", state_.pool().evictions()},
            {"max_waiting", state_.max_waiting()}};
  }

 private:
  SglangRules read_rules(const GpuSpec& gpu, EngineSettings& s);
  BlockPool size_token_pool(const ModelSpec& model, const GpuSpec& gpu, EngineSettings& s);
  double default_mem_fraction(const GpuSpec& gpu, const std::string& era) const;

  std::string era_;
  std::int64_t context_len_ = 4096;
  std::int64_t max_req_input_len_ = 4095;
  std::int64_t max_running_setting_ = 0;
  double mem_fraction_static_ = 0.88;
  PagedLimits limits_;
  std::unique_ptr<CapacityPolicy> capacity_;
  std::unique_ptr<BatchPlanner> planner_owner_;
  SglangPlanner* planner_ = nullptr;
  PagedState state_;
  PagedCommit commit_{state_};
};

double gpu_mem_mib(const GpuSpec& gpu) { return gpu.memory_bytes / (1024.0 * 1024.0); }

SglangRules SglangEngine::read_rules(const GpuSpec& gpu, EngineSettings& s) {
  // `defaults`: which server_args.py rules fill unset limits. v0.4: chunked_prefill_size 2048 below
  // 25,000 MiB of GPU memory else 8192; cuda_graph_max_bs 8 / 160; mem_fraction_static by TP.
  // v0.5: by GPU memory tier (<20/35/60/90/160 GiB and above) and TP (< 4 or not).
  era_ = s.choice("defaults", "v0.5", {"v0.4", "v0.5"});
  const double mib = gpu_mem_mib(gpu);
  const std::int64_t tp = cost_model().tp();
  std::int64_t chunk = 8192, graph_bs = 160;
  if (era_ == "v0.4") {
    chunk = mib < 25000 ? 2048 : 8192;
    graph_bs = mib < 25000 ? 8 : 160;
  } else {
    const double gib = mib / 1024.0;
    const bool small_tp = tp < 4;
    if (gib < 20) { chunk = 2048; graph_bs = 8; }
    else if (gib < 35) { chunk = 2048; graph_bs = small_tp ? 24 : 80; }
    else if (gib < 60) { chunk = 4096; graph_bs = small_tp ? 32 : 160; }
    else if (gib < 160) { chunk = 8192; graph_bs = small_tp ? 256 : 512; }
    else { chunk = 16384; graph_bs = 512; }
  }
  SglangRules r;
  r.chunked_prefill_size = s.integer("chunked_prefill_size", chunk, -1, 100000000);
  r.max_prefill_tokens = s.integer("max_prefill_tokens", 16384, 1, 100000000);
  r.lpm = s.choice("schedule_policy", "lpm", {"lpm", "fcfs"}) == "lpm";
  const double conservativeness = s.number("schedule_conservativeness", 1.0, 0.01, 100);
  r.init_ratio = std::min(0.7 * conservativeness, 1.0);
  r.min_ratio = std::min(r.init_ratio * 0.14, 1.0);
  r.ratio_decay = (r.init_ratio - r.min_ratio) / 600.0;
  r.cuda_graph_max_bs = s.integer("cuda_graph_max_bs", graph_bs, 0, 100000);
  max_running_setting_ = s.integer("max_running_requests", 0, 0, 100000000);
  cost_.set_overlap_cpu(s.flag("overlap_schedule", era_ == "v0.5"));
  limits_.block_size = 1;
  limits_.block_shift = 0;
  limits_.chunked_prefill = r.chunked_prefill_size > 0;
  limits_.max_num_batched_tokens = r.chunked_prefill_size > 0 ? r.chunked_prefill_size : r.max_prefill_tokens;
  return r;
}

double SglangEngine::default_mem_fraction(const GpuSpec& gpu, const std::string& era) const {
  const double tp = cost_model().tp();
  if (era == "v0.4") {
    if (tp >= 16) return 0.79;
    if (tp >= 8) return 0.81;
    if (tp >= 4) return 0.85;
    if (tp >= 2) return 0.87;
    return 0.88;
  }
  // v0.5 _handle_gpu_memory_settings: reserve GiB for activations and CUDA graphs by memory tier.
  const double mib = gpu_mem_mib(gpu), gib = mib / 1024.0;
  double reserved_gib = 32;
  if (gib < 35) reserved_gib = 2.8 + tp / 10.0;
  else if (gib < 90) reserved_gib = 9.5 + tp / 2.0;
  else if (gib < 160) reserved_gib = 12 + tp / 2.0;
  return std::round((mib - reserved_gib * 1024.0) / mib * 1000.0) / 1000.0;
}

BlockPool SglangEngine::size_token_pool(const ModelSpec& model, const GpuSpec& gpu, EngineSettings& s) {
  context_len_ = s.integer("context_length", model.max_position_embeddings, 2, 100000000);
  mem_fraction_static_ = s.number("mem_fraction_static", default_mem_fraction(gpu, era_), 0.05, 1.0);
  const double context_bytes = s.number("cuda_context_bytes", 0, 0, 1e12);
  const double pool_override = s.number("max_total_tokens", 0, 0, 1e12);
  const bool radix = s.flag("radix_cache", true);
  // profile_max_num_token: memory free at start (device minus the CUDA context) x mem_fraction_static,
  // less the weights, over the KV bytes of one token.
  const double device = gpu.usable_memory_bytes > 0 ? gpu.usable_memory_bytes : gpu.memory_bytes;
  const double at_start = device - context_bytes;
  memory_ = compute_memory_budget(at_start * mem_fraction_static_, 0, cost_model().weight_bytes_per_gpu(), 0);
  memory_.cuda_context_bytes = context_bytes;
  const auto tokens = pool_override > 0 ? static_cast<std::int64_t>(pool_override)
                                        : static_cast<std::int64_t>(std::floor(memory_.free_bytes / cost_model().kv_bytes_per_token_per_gpu()));
  if (tokens <= 1 || (!memory_.fits() && pool_override <= 0)) {
    throw DoesNotFitError("SGLang would not start: weights " + std::to_string(memory_.weight_bytes / 1e9) +
                          " GB leave no KV pool in mem_fraction_static x memory = " +
                          std::to_string(at_start * mem_fraction_static_ / 1e9) + " GB per GPU");
  }
  max_req_input_len_ = std::min(context_len_ - 1, tokens - 1);
  const std::int64_t req_pool = std::clamp<std::int64_t>(
      static_cast<std::int64_t>(static_cast<double>(tokens) / static_cast<double>(context_len_) * 512.0), 2048, 4096);
  limits_.max_num_seqs = std::min(max_running_setting_ > 0 ? max_running_setting_ : tokens / 2, req_pool);
  return BlockPool(tokens, 1, radix);
}

}  // namespace

// Engine kind `sglang` (sim/engine/engine_registry.hpp: called from the generated engine list).
void register_sglang_engine(EngineRegistry& registry) {
  registry.add({"sglang", "SGLang: radix prefix cache, prefill-first chunked batches, new-token-ratio admission, retraction",
                [](EngineBuildContext& c) { return std::make_unique<SglangEngine>(c); }});
}

}  // namespace servetwin
