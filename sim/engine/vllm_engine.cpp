#include "sim/engine/vllm_engine.hpp"

#include <algorithm>
#include <cmath>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

namespace {

// vLLM V1 (0.9-0.15)'s "large GPU" test for its default limits: device memory >= 70 GiB and not
// an A100 (vllm_scheduling.md §2).
bool v1_big_gpu(const GpuSpec& gpu) {
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  const double device = gpu.usable_memory_bytes > 0 ? gpu.usable_memory_bytes : gpu.memory_bytes;
  return device >= 70.0 * kGiB && gpu.name.rfind("A100", 0) != 0;
}

}  // namespace

VllmEngine::VllmEngine(EventQueue& queue, SimListener* listener, CostModel cost, const ModelSpec& model,
                       const GpuSpec& gpu, EngineSettings& s)
    : EngineBase(queue, listener, std::move(cost), "vllm") {
  const std::string mode = s.choice("scheduler", "v1", {"v1", "v0", "static"});
  mode_ = mode == "v0" ? Mode::kV0 : (mode == "static" ? Mode::kStatic : Mode::kV1);
  max_model_len_ = s.integer("max_model_len", model.max_position_embeddings, 2, 100000000);
  // Unset limits take vLLM's defaults (vllm_scheduling.md §2). V1 0.9-0.15 picks them by GPU
  // (engine/arg_utils.py): a device of >= 70 GiB that is not an A100 ("H100 and MI300x") gets 1024
  // sequences and a token budget of 8192 in the API server (16384 in the offline `LLM` class);
  // other GPUs 256 and 2048 (`LLM` class 8192). V0 0.2-0.6 (`v0`): 256 sequences and a budget of
  // max(max_model_len, 2048), so that any prompt fits one step; above 32K tokens of context 0.6
  // turns chunked prefill on instead, which the V0 model does not have, so 8192 stands in there.
  // `fixed`: 256 / 2048.
  const std::string limits = s.choice("default_limits", "fixed", {"fixed", "v0", "v1_server", "v1_offline"});
  const bool v1 = limits == "v1_server" || limits == "v1_offline";
  const bool big_gpu = v1 && v1_big_gpu(gpu);
  std::int64_t default_tokens = 2048;
  if (limits == "v1_offline") default_tokens = big_gpu ? 16384 : 8192;
  if (limits == "v1_server") default_tokens = big_gpu ? 8192 : 2048;
  if (limits == "v0") default_tokens = max_model_len_ <= 32768 ? std::max<std::int64_t>(max_model_len_, 2048) : 8192;
  max_num_seqs_ = s.integer("max_num_seqs", big_gpu ? 1024 : 256, 1, 1000000);
  max_num_batched_tokens_ = s.integer("max_num_batched_tokens", default_tokens, 1, 100000000);
  block_size_ = s.integer("block_size", 16, 1, 1024);
  if ((block_size_ & (block_size_ - 1)) == 0) block_shift_ = __builtin_ctzll(static_cast<unsigned long long>(block_size_));
  chunked_prefill_ = s.flag("enable_chunked_prefill", mode_ == Mode::kV1);
  const bool prefix_caching = s.flag("enable_prefix_caching", mode_ == Mode::kV1);
  watermark_ = s.number("watermark", mode_ == Mode::kV0 ? 0.01 : 0.0, 0, 0.5);
  prefill_padding_ = s.flag("prefill_padding", false);
  v0_block_manager_v2_ = s.choice("block_manager", "v1", {"v1", "v2"}) == "v2";
  max_paddings_ = s.integer("max_paddings", 256, 0, 100000000);
  const double util = s.number("gpu_memory_utilization", 0.9, 0.05, 1.0);
  const double reserved = s.number("cuda_reserved_bytes", 0, 0, 1e12);
  const double non_torch = s.number("non_torch_bytes", 0, 0, 1e12);
  const double overrides_blocks = s.number("num_gpu_blocks_override", 0, 0, 1e12);
  api_ttft_ns_ = static_cast<TimeNs>(s.number("api_ttft_ns", 0, 0, 1e12));
  api_finish_ns_ = static_cast<TimeNs>(s.number("api_finish_ns", 0, 0, 1e12));
  api_token_ns_ = s.number("api_token_ns", 0, 0, 1e10);
  kv_offload_bytes_ = s.number("kv_cpu_offload_bytes", 0, 0, 1e14);
  // Which validation rows the preset's fitted values came from; `servetwin validate` refuses to
  // score those rows with this preset (configs/validation/sources/*.yaml define each set).
  (void)s.text("fitted_on", "none");
  // vLLM admits against the blocks a request needs now and preempts under pressure
  // (max_utilization); TensorRT-LLM's default GUARANTEED_NO_EVICT admits a request only when its
  // prompt plus maximum output fit next to what running requests may still grow to, and never evicts.
  no_evict_ = s.choice("capacity_policy", "max_utilization", {"max_utilization", "guaranteed_no_evict"}) ==
              "guaranteed_no_evict";
  if (chunked_prefill_ && mode_ != Mode::kV1) {
    throw ConfigError("vllm: enable_chunked_prefill is modelled for scheduler v1 only; allowed with v0/static: false");
  }
  if (prefill_padding_ && mode_ != Mode::kV0) {
    throw ConfigError("vllm: prefill_padding is modelled for scheduler v0 only; allowed with v1/static: false");
  }

  // KV sizing (vllm_scheduling.md §3): the profile run is a forward pass of max_num_batched_tokens
  // tokens; its activation peak is dominated by the hidden-state buffers and the MLP intermediates
  // (gate+up and their product), plus the sampler's fp32 logits and probabilities for
  // max_num_seqs sequences.
  const double tp = cost_model().tp();
  const double per_token_act = 2.0 * (4.0 * model.hidden_size + 3.0 * model.intermediate_size / tp);
  const double sampler = 8.0 * static_cast<double>(std::min(max_num_seqs_, max_num_batched_tokens_)) *
                         static_cast<double>(model.vocab_size) / tp;
  activation_reserve_bytes_ =
      static_cast<std::int64_t>(per_token_act * static_cast<double>(max_num_batched_tokens_) + sampler + non_torch);
  const double device = gpu.usable_memory_bytes > 0 ? gpu.usable_memory_bytes : gpu.memory_bytes;
  const double torch_total = device - reserved;
  memory_ = compute_memory_budget(torch_total * util, 0, cost_model().weight_bytes_per_gpu(),
                                  static_cast<double>(activation_reserve_bytes_));
  memory_.cuda_context_bytes = reserved;
  const double block_bytes = cost_model().kv_bytes_per_token_per_gpu() * static_cast<double>(block_size_);
  std::int64_t blocks = overrides_blocks > 0 ? static_cast<std::int64_t>(overrides_blocks)
                                             : static_cast<std::int64_t>(std::floor(memory_.free_bytes / block_bytes));
  if (!memory_.fits() && overrides_blocks <= 0) {
    throw DoesNotFitError("vLLM would not start: weights " + std::to_string(memory_.weight_bytes / 1e9) +
                          " GB + activations " + std::to_string(memory_.activation_reserve_bytes / 1e9) +
                          " GB exceed gpu_memory_utilization x memory = " + std::to_string(torch_total * util / 1e9) +
                          " GB per GPU");
  }
  // vLLM refuses to start when one max_model_len sequence cannot fit (§3: startup fit check).
  if (blocks < blocks_for(std::min<std::int64_t>(max_model_len_, 16)) || blocks <= 0) {
    throw DoesNotFitError("vLLM would not start: " + std::to_string(blocks) + " KV blocks");
  }
  if (mode_ != Mode::kStatic && blocks * block_size_ < max_model_len_) {
    // vLLM lowers nothing by itself: it fails with "max_model_len larger than KV cache". Clamp and
    // say so in stats rather than refusing, since users often leave max_model_len at the model max.
    max_model_len_ = blocks * block_size_;
  }
  pool_ = BlockPool(blocks, block_size_, prefix_caching);
  kv_ = KvLedger("blocks", static_cast<double>(blocks));
}

EngineLimits VllmEngine::limits() const {
  return EngineLimits{max_model_len_, max_model_len_ - 1, 0};
}

std::int64_t VllmEngine::shareable_blocks(const SimRequest& r) const {
  return r.in.prefix_group >= 0 ? r.in.shared_prefix_tokens / block_size_ : 0;
}

EngineBase::Admission VllmEngine::admit(SimRequest& req) {
  const std::int64_t in = req.in.input_tokens;
  if (in <= 0) return {false, RequestStatus::kRejected, "INVALID_ARGUMENT: empty prompt"};
  if (in >= max_model_len_) {
    return {false, RequestStatus::kRejected, "INVALID_ARGUMENT: prompt length >= max_model_len"};
  }
  if (mode_ == Mode::kV0) {
    // V0 drops prompts it can never schedule (FINISHED_IGNORED, §1.1 a/b).
    if (in > std::min(max_model_len_, max_num_batched_tokens_)) {
      return {false, RequestStatus::kRejected, "IGNORED: prompt longer than max_num_batched_tokens"};
    }
    const auto wm = static_cast<std::int64_t>(watermark_ * static_cast<double>(pool_.total()));
    if (blocks_for(in) > pool_.total() - wm) {
      return {false, RequestStatus::kRejected, "IGNORED: prompt needs more KV blocks than the GPU has"};
    }
  }
  req.max_new_tokens = std::min(req.in.max_new_tokens, max_model_len_ - in);
  if (free_slots_.empty()) {
    req.engine_slot = static_cast<std::int64_t>(states_.size());
    states_.emplace_back();
  } else {
    req.engine_slot = free_slots_.back();
    free_slots_.pop_back();
  }
  State& s = st(&req);
  s = State{};
  s.req = &req;
  s.prefill_target = in;
  if (api_ttft_ns_ > 0) {
    // The API server parses, tokenises and hands the request to the engine core after a delay;
    // the request is only visible to the scheduler afterwards.
    const std::uint64_t id = req.in.id;
    api_pending_.emplace(id, &req);
    queue_.schedule(now() + api_ttft_ns_, [this, id] {
      auto it = api_pending_.find(id);
      if (it == api_pending_.end()) return;  // cancelled meanwhile
      SimRequest* r = it->second;
      api_pending_.erase(it);
      enqueue(r);
      maybe_start_step();
    }, /*priority=*/1);
  } else {
    enqueue(&req);
  }
  if (mode_ == Mode::kStatic && !batch_kick_pending_) {
    // A static batch is the requests submitted together: form it after every arrival at this instant
    // (priority 3 runs after same-time arrivals and the load driver), not at the first one.
    batch_kick_pending_ = true;
    queue_.schedule(now(), [this] {
      batch_kick_pending_ = false;
      maybe_start_step();
    }, /*priority=*/3);
  }
  return {};
}

void VllmEngine::enqueue(SimRequest* r) {
  waiting_.push_back(r);
  max_waiting_ = std::max<std::int64_t>(max_waiting_, static_cast<std::int64_t>(waiting_.size()));
}

void VllmEngine::preempt(SimRequest* victim) {
  State& s = st(victim);
  pool_.release(s.blocks);
  committed_blocks_ -= s.committed_blocks;  // (never happens under guaranteed_no_evict)
  s.committed_blocks = 0;
  // Recompute: the prompt and everything generated so far are prefilled again (§1.1, §1.3).
  s.computed = 0;
  s.prefill_target = victim->in.input_tokens + victim->generated;
  running_.erase(std::remove(running_.begin(), running_.end(), victim), running_.end());
  waiting_.push_front(victim);
  ++preemptions_;
}

bool VllmEngine::try_admit(SimRequest* r, std::int64_t budget, std::int64_t reserve_blocks, std::int64_t& n_out) {
  State& s = st(r);
  std::int64_t hit_blocks = 0, hit_cost = 0;
  if (s.computed == 0 && pool_.caching()) {
    // A hit covers at most num_tokens - 1 tokens: the last prompt token is always computed (§4).
    const std::int64_t max_hit = (s.prefill_target - 1) / block_size_;
    hit_blocks = pool_.cached_prefix_blocks(r->in.prefix_group, std::min(max_hit, shareable_blocks(*r)));
    hit_cost = pool_.hit_cost(r->in.prefix_group, hit_blocks);
  }
  const std::int64_t start = s.computed + hit_blocks * block_size_;
  const std::int64_t remaining = s.prefill_target - start;
  const std::int64_t n = std::min(remaining, budget);
  if (n <= 0) return false;
  if (!chunked_prefill_ && n < remaining) return false;
  const std::int64_t new_blocks = blocks_for(start + n) - hit_blocks - s.blocks.blocks();
  if (hit_cost + new_blocks > pool_.free() - reserve_blocks) return false;
  const std::int64_t footprint = blocks_for(r->in.input_tokens + r->max_new_tokens);
  if (no_evict_ && s.committed_blocks == 0 && committed_blocks_ + footprint > pool_.total()) return false;
  if (hit_blocks > 0) {
    pool_.take_hits(r->in.prefix_group, hit_blocks, s.blocks);
    s.computed = start;
  }
  s.hit_tokens = hit_blocks * block_size_;
  hit_tokens_ += static_cast<std::uint64_t>(s.hit_tokens);
  if (!s.admitted_once) prompt_tokens_ += static_cast<std::uint64_t>(r->in.input_tokens);
  s.admitted_once = true;
  if (no_evict_ && s.committed_blocks == 0) {
    s.committed_blocks = footprint;
    committed_blocks_ += footprint;
  }
  pool_.grow(s.blocks, blocks_for(start + n), r->in.prefix_group, shareable_blocks(*r));
  n_out = n;
  return true;
}

void VllmEngine::add_item(Step& step, SimRequest* r, std::int64_t n) {
  const State& s = st(r);
  StepShape& sh = step.shape;
  if (s.computed < s.prefill_target) {
    // Prompt chunk: attention spans the cached/computed past plus the causal part of the chunk.
    const bool last = s.computed + n >= s.prefill_target;
    step.items.push_back({r, n, last});
    sh.prefill_seqs += 1;
    sh.prefill_tokens += n;
    sh.prefill_attn_pairs += static_cast<double>(n) * (static_cast<double>(s.computed) + static_cast<double>(n + 1) / 2);
  } else {
    step.items.push_back({r, 0, true});
    sh.decode_seqs += 1;
    sh.decode_kv_tokens += s.computed + 1;
  }
  // vLLM computes logits only at each scheduled request's last position (sample indices).
  sh.lm_head_tokens += 1;
}

bool VllmEngine::plan_v1(Step& step) {
  std::int64_t budget = max_num_batched_tokens_;
  bool preempted = false;
  // RUNNING first, in admission order. Iterate by index: preemption removes from the tail.
  for (std::size_t i = 0; i < running_.size() && budget > 0; ++i) {
    SimRequest* r = running_[i];
    State& s = st(r);
    const std::int64_t owed = s.computed < s.prefill_target ? s.prefill_target - s.computed : 1;
    const std::int64_t n = std::min(owed, budget);
    const std::int64_t target = blocks_for(s.computed + n);
    const std::int64_t need = target - s.blocks.blocks();
    bool self_preempted = false;
    while (need > pool_.free()) {
      SimRequest* victim = running_.back();
      preempt(victim);
      preempted = true;
      if (victim == r) {
        self_preempted = true;
        break;
      }
    }
    if (self_preempted) break;
    pool_.grow(s.blocks, target, r->in.prefix_group, shareable_blocks(*r));
    add_item(step, r, n);
    budget -= n;
  }
  // WAITING only when nothing was preempted this step (§1.3).
  while (!preempted && budget > 0 && !waiting_.empty() &&
         static_cast<std::int64_t>(running_.size()) < max_num_seqs_) {
    SimRequest* r = waiting_.front();
    std::int64_t n = 0;
    if (!try_admit(r, budget, 0, n)) break;  // head-of-line blocking
    waiting_.pop_front();
    running_.push_back(r);
    add_item(step, r, n);
    budget -= n;
  }
  return !step.items.empty();
}

bool VllmEngine::plan_v0(Step& step) {
  // Step 1: admit new prompts FCFS; a step that admits anything is prefill-only (§1.1).
  const auto wm = static_cast<std::int64_t>(watermark_ * static_cast<double>(pool_.total()));
  std::int64_t tokens = 0, longest = 0;
  std::vector<std::pair<SimRequest*, std::int64_t>> admitted;
  while (!waiting_.empty()) {
    SimRequest* r = waiting_.front();
    const State& s = st(r);
    const std::int64_t len = s.prefill_target - s.computed;
    if (prefill_padding_) {
      // Padded batch: n x longest within the budget, and at most max_paddings pad tokens (§1.1 c).
      const std::int64_t n_seqs = static_cast<std::int64_t>(admitted.size()) + 1;
      const std::int64_t padded = n_seqs * std::max(longest, len);
      if (padded > max_num_batched_tokens_ || padded - (tokens + len) > max_paddings_) break;
    } else if (tokens + len > max_num_batched_tokens_) {
      break;
    }
    if (static_cast<std::int64_t>(running_.size() + admitted.size()) + 1 > max_num_seqs_) break;
    std::int64_t n = 0;
    if (!try_admit(r, max_num_batched_tokens_ - tokens, wm, n)) break;
    waiting_.pop_front();
    admitted.emplace_back(r, n);
    tokens += n;
    longest = std::max(longest, n);
  }
  if (!admitted.empty()) {
    for (auto& [r, n] : admitted) {
      running_.push_back(r);
      add_item(step, r, n);
    }
    if (prefill_padding_) {
      // The pad tokens run through every layer: GEMMs and element-wise work on n x longest
      // tokens, causal attention within each padded row (xformers block-diagonal causal mask).
      // Logits are still taken at one position per prompt.
      StepShape& sh = step.shape;
      const auto n_seqs = static_cast<double>(admitted.size());
      const auto l = static_cast<double>(longest);
      sh.prefill_tokens = static_cast<std::int64_t>(admitted.size()) * longest;
      sh.prefill_attn_pairs = n_seqs * l * (l + 1) / 2;
    }
    step.is_prefill_only = true;
    return true;
  }
  // Step 3: decode every running request; each needs a slot for its next token. When blocks run
  // out the latest-arrived running request is preempted, repeatedly, possibly the current one.
  std::vector<SimRequest*> order = running_;
  std::stable_sort(order.begin(), order.end(),
                   [](const SimRequest* a, const SimRequest* b) { return a->rec.arrival_ns < b->rec.arrival_ns; });
  std::vector<SimRequest*> scheduled;
  for (SimRequest* r : order) {
    if (std::find(running_.begin(), running_.end(), r) == running_.end()) continue;  // preempted meanwhile
    State& s = st(r);
    // Block manager v1 appends only when at least one block per sequence is free, whether or not
    // this token opens a new block; v2 asks only for the blocks it touches (§1.1 step 3).
    const std::int64_t touched = blocks_for(s.computed + 1) - s.blocks.blocks();
    const std::int64_t need = v0_block_manager_v2_ ? touched : std::max<std::int64_t>(touched, 1);
    bool self_preempted = false;
    while (need > pool_.free()) {
      SimRequest* victim = nullptr;
      for (SimRequest* c : running_) {
        if (c == r || std::find(scheduled.begin(), scheduled.end(), c) != scheduled.end()) continue;
        if (victim == nullptr || c->rec.arrival_ns > victim->rec.arrival_ns) victim = c;
      }
      if (victim == nullptr) victim = r;
      preempt(victim);
      if (victim == r) {
        self_preempted = true;
        break;
      }
    }
    if (self_preempted) continue;
    pool_.grow(s.blocks, blocks_for(s.computed + 1), r->in.prefix_group, shareable_blocks(*r));
    scheduled.push_back(r);
  }
  for (SimRequest* r : scheduled) add_item(step, r, 1);
  return !step.items.empty();
}

bool VllmEngine::plan_static(Step& step) {
  if (running_.empty()) {
    if (batch_kick_pending_) return false;  // more requests of this instant are still arriving
    // One batch: up to max_num_seqs requests, each reserving its full length, prefilled together.
    while (!waiting_.empty() && static_cast<std::int64_t>(running_.size()) < max_num_seqs_) {
      SimRequest* r = waiting_.front();
      State& s = st(r);
      const std::int64_t need = blocks_for(r->in.input_tokens + r->max_new_tokens);
      if (need > pool_.free()) break;
      waiting_.pop_front();
      pool_.grow(s.blocks, need, -1, 0);
      if (!s.admitted_once) prompt_tokens_ += static_cast<std::uint64_t>(r->in.input_tokens);
      s.admitted_once = true;
      running_.push_back(r);
      add_item(step, r, s.prefill_target);
    }
    step.is_prefill_only = !step.items.empty();
    return !step.items.empty();
  }
  for (SimRequest* r : running_) add_item(step, r, 1);
  return true;
}

bool VllmEngine::plan_step(TimeNs /*now*/, Step& step) {
  bool any = false;
  switch (mode_) {
    case Mode::kV1: any = plan_v1(step); break;
    case Mode::kV0: any = plan_v0(step); break;
    case Mode::kStatic: any = plan_static(step); break;
  }
  update_ledger();
  if (any && observer_) observer_(step, pool_.free());
  return any;
}

void VllmEngine::on_step_done(const Step& step) {
  bool any_done = false;
  for (const auto& item : step.items) {
    SimRequest* r = item.req;
    State& s = st(r);
    s.computed += item.prefill_tokens > 0 ? item.prefill_tokens : 1;
    if (r->done && !r->cancelled) {
      any_done = true;
      // Detokenisation/streaming of every token and the final response happen in the API server
      // after the engine finished the request (BLIS alpha1/alpha2).
      r->rec.finish_ns += api_finish_ns_ + static_cast<TimeNs>(std::llround(api_token_ns_ * static_cast<double>(r->generated)));
      pool_.release(s.blocks);
      committed_blocks_ -= s.committed_blocks;
      s.req = nullptr;
      free_slots_.push_back(r->engine_slot);
    }
  }
  if (any_done) {
    running_.erase(std::remove_if(running_.begin(), running_.end(), [](const SimRequest* r) { return r->done && !r->cancelled; }),
                   running_.end());
  }
  update_ledger();
}

void VllmEngine::on_cancel(SimRequest& req) {
  State& s = st(&req);
  if (s.req != &req) return;
  api_pending_.erase(req.in.id);
  pool_.release(s.blocks);
  committed_blocks_ -= s.committed_blocks;
  s.committed_blocks = 0;
  s.req = nullptr;
  free_slots_.push_back(req.engine_slot);
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), &req), waiting_.end());
  running_.erase(std::remove(running_.begin(), running_.end(), &req), running_.end());
  update_ledger();
}

void VllmEngine::update_ledger() { kv_.set_used(static_cast<double>(pool_.used()), now()); }

nlohmann::json VllmEngine::engine_stats() const {
  const char* mode = mode_ == Mode::kV1 ? "v1" : (mode_ == Mode::kV0 ? "v0" : "static");
  return {{"scheduler", mode},
          {"num_gpu_blocks", pool_.total()},
          {"block_size", block_size_},
          {"max_model_len", max_model_len_},
          {"activation_reserve_bytes", activation_reserve_bytes_},
          {"preemptions", preemptions_},
          {"prefix_cache_hit_tokens", hit_tokens_},
          {"prompt_tokens", prompt_tokens_},
          {"prefix_cache_hit_rate", prompt_tokens_ > 0 ? static_cast<double>(hit_tokens_) / static_cast<double>(prompt_tokens_) : 0.0},
          {"cached_block_evictions", pool_.evictions()},
          {"kv_cpu_offload_bytes", kv_offload_bytes_},
          {"kv_cpu_offload_modelled", false},
          {"max_waiting", max_waiting_}};
}

}  // namespace servetwin
