#include "sim/engine/vllm_engine.hpp"

#include <algorithm>
#include <cmath>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_registry.hpp"

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
  const KvSizing sizing = read_settings(model, gpu, s);
  // vLLM admits against the blocks a request needs now and preempts under pressure
  // (max_utilization); TensorRT-LLM's default GUARANTEED_NO_EVICT admits a request only when its
  // prompt plus maximum output fit next to what running requests may still grow to, and never evicts.
  // The static planner reserves each request's whole footprint at once (static_batch).
  const std::string policy = s.choice("capacity_policy", "max_utilization", {"max_utilization", "guaranteed_no_evict"});
  if (limits_.chunked_prefill && mode_ != Mode::kV1) {
    throw ConfigError("vllm: enable_chunked_prefill is modelled for scheduler v1 only; allowed with v0/static: false");
  }
  if (async_scheduling_ && mode_ != Mode::kV1) {
    throw ConfigError("vllm: async_scheduling is modelled for scheduler v1 only; allowed with v0/static: false");
  }
  if (limits_.prefill_padding && mode_ != Mode::kV0) {
    throw ConfigError("vllm: prefill_padding is modelled for scheduler v0 only; allowed with v1/static: false");
  }
  capacity_ = make_capacity_policy(mode_ == Mode::kStatic ? "static_batch" : policy);
  planner_ = mode_ == Mode::kV1 ? make_vllm_v1_planner()
                                : (mode_ == Mode::kV0 ? make_vllm_v0_planner() : make_static_batch_planner());
  BlockPool pool = size_kv_cache(model, gpu, sizing);
  kv_ = KvLedger("blocks", static_cast<double>(pool.total()));
  commit_.configure(limits_, *capacity_, std::move(pool));
}

VllmEngine::KvSizing VllmEngine::read_settings(const ModelSpec& model, const GpuSpec& gpu, EngineSettings& s) {
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
  PagedLimits& l = limits_;
  l.max_num_seqs = s.integer("max_num_seqs", big_gpu ? 1024 : 256, 1, 1000000);
  l.max_num_batched_tokens = s.integer("max_num_batched_tokens", default_tokens, 1, 100000000);
  l.block_size = s.integer("block_size", 16, 1, 1024);
  if ((l.block_size & (l.block_size - 1)) == 0) l.block_shift = __builtin_ctzll(static_cast<unsigned long long>(l.block_size));
  l.chunked_prefill = s.flag("enable_chunked_prefill", mode_ == Mode::kV1);
  KvSizing k;
  k.prefix_caching = s.flag("enable_prefix_caching", mode_ == Mode::kV1);
  // Only presets that carry it resolve it (the probe-fitted vLLM V1 preset): shipped outputs unchanged.
  if (s.has("prefix_cache_single_free_queue")) k.single_free_queue = s.flag("prefix_cache_single_free_queue", false);
  l.watermark = s.number("watermark", mode_ == Mode::kV0 ? 0.01 : 0.0, 0, 0.5);
  l.prefill_padding = s.flag("prefill_padding", false);
  l.v0_block_manager_v2 = s.choice("block_manager", "v1", {"v1", "v2"}) == "v2";
  l.max_paddings = s.integer("max_paddings", 256, 0, 100000000);
  k.util = s.number("gpu_memory_utilization", 0.9, 0.05, 1.0);
  k.reserved = s.number("cuda_reserved_bytes", 0, 0, 1e12);
  k.non_torch = s.number("non_torch_bytes", 0, 0, 1e12);
  k.blocks_override = s.number("num_gpu_blocks_override", 0, 0, 1e12);
  api_ttft_ns_ = static_cast<TimeNs>(s.number("api_ttft_ns", 0, 0, 1e12));
  // Only presets that carry it resolve it, so every other preset's resolved settings stay as they were.
  if (s.has("api_ttft_spread_ratios"))
    front_end_spread_ = FrontEndSpread::parse(s.text("api_ttft_spread_ratios", ""), "engine setting api_ttft_spread_ratios");
  api_finish_ns_ = static_cast<TimeNs>(s.number("api_finish_ns", 0, 0, 1e12));
  api_token_ns_ = s.number("api_token_ns", 0, 0, 1e10);
  kv_offload_bytes_ = s.number("kv_cpu_offload_bytes", 0, 0, 1e14);
  async_scheduling_ = s.flag("async_scheduling", false);
  // Which validation rows the preset's fitted values came from; `servetwin validate` refuses to
  // score those rows with this preset (configs/validation/sources/*.yaml define each set).
  (void)s.text("fitted_on", "none");
  return k;
}

BlockPool VllmEngine::size_kv_cache(const ModelSpec& model, const GpuSpec& gpu, const KvSizing& k) {
  // KV sizing (vllm_scheduling.md §3): the profile run is a forward pass of max_num_batched_tokens
  // tokens; its activation peak is dominated by the hidden-state buffers and the MLP intermediates
  // (gate+up and their product), plus the sampler's fp32 logits and probabilities for
  // max_num_seqs sequences.
  const std::int64_t block_size = limits_.block_size;
  const double tp = cost_model().tp();
  const double per_token_act = 2.0 * (4.0 * model.hidden_size + 3.0 * model.intermediate_size / tp);
  const double sampler = 8.0 * static_cast<double>(std::min(limits_.max_num_seqs, limits_.max_num_batched_tokens)) *
                         static_cast<double>(model.vocab_size) / tp;
  activation_reserve_bytes_ = static_cast<std::int64_t>(
      per_token_act * static_cast<double>(limits_.max_num_batched_tokens) + sampler + k.non_torch);
  const double device = gpu.usable_memory_bytes > 0 ? gpu.usable_memory_bytes : gpu.memory_bytes;
  const double torch_total = device - k.reserved;
  memory_ = compute_memory_budget(torch_total * k.util, 0, cost_model().weight_bytes_per_gpu(),
                                  static_cast<double>(activation_reserve_bytes_));
  memory_.cuda_context_bytes = k.reserved;
  const double block_bytes = cost_model().kv_bytes_per_token_per_gpu() * static_cast<double>(block_size);
  const std::int64_t blocks = k.blocks_override > 0 ? static_cast<std::int64_t>(k.blocks_override)
                                                    : static_cast<std::int64_t>(std::floor(memory_.free_bytes / block_bytes));
  if (!memory_.fits() && k.blocks_override <= 0) {
    throw DoesNotFitError("vLLM would not start: weights " + std::to_string(memory_.weight_bytes / 1e9) +
                          " GB + activations " + std::to_string(memory_.activation_reserve_bytes / 1e9) +
                          " GB exceed gpu_memory_utilization x memory = " + std::to_string(torch_total * k.util / 1e9) +
                          " GB per GPU");
  }
  // vLLM refuses to start when one max_model_len sequence cannot fit (§3: startup fit check).
  const std::int64_t first_blocks = (std::min<std::int64_t>(max_model_len_, 16) + block_size - 1) / block_size;
  if (blocks < first_blocks || blocks <= 0) {
    throw DoesNotFitError("vLLM would not start: " + std::to_string(blocks) + " KV blocks");
  }
  if (mode_ != Mode::kStatic && blocks * block_size < max_model_len_) {
    // vLLM lowers nothing by itself: it fails with "max_model_len larger than KV cache". Clamp and
    // say so in stats rather than refusing, since users often leave max_model_len at the model max.
    max_model_len_ = blocks * block_size;
  }
  BlockPool pool(blocks, block_size, k.prefix_caching);
  pool.set_single_free_queue(k.single_free_queue);
  return pool;
}

EngineLimits VllmEngine::limits() const {
  return EngineLimits{max_model_len_, max_model_len_ - 1, 0};
}

TimeNs VllmEngine::front_end_delay_ns(const SimRequest& req) const {
  if (front_end_spread_.empty()) return api_ttft_ns_;
  // The spread scales with the request's lone TTFT: front end + one step prefilling its whole prompt.
  StepShape lone;
  lone.prefill_seqs = 1;
  lone.prefill_tokens = req.in.input_tokens;
  const auto p = static_cast<double>(req.in.input_tokens);
  lone.prefill_attn_pairs = p * (p + 1) / 2;
  lone.lm_head_tokens = 1;
  const double lone_ttft_ns = static_cast<double>(api_ttft_ns_) + cost_model().step(lone).total_ns;
  return api_ttft_ns_ + front_end_spread_.extra_ns(req.in.id, lone_ttft_ns);
}

EngineBase::Admission VllmEngine::admit(SimRequest& req) {
  const std::int64_t in = req.in.input_tokens;
  if (in <= 0) return {false, RequestStatus::kRejected, "INVALID_ARGUMENT: empty prompt"};
  if (in >= max_model_len_) {
    return {false, RequestStatus::kRejected, "INVALID_ARGUMENT: prompt length >= max_model_len"};
  }
  if (mode_ == Mode::kV0) {
    // V0 drops prompts it can never schedule (FINISHED_IGNORED, §1.1 a/b).
    if (in > std::min(max_model_len_, limits_.max_num_batched_tokens)) {
      return {false, RequestStatus::kRejected, "IGNORED: prompt longer than max_num_batched_tokens"};
    }
    const auto wm = static_cast<std::int64_t>(limits_.watermark * static_cast<double>(state_.total_blocks()));
    if (state_.blocks_for(in) > state_.total_blocks() - wm) {
      return {false, RequestStatus::kRejected, "IGNORED: prompt needs more KV blocks than the GPU has"};
    }
  }
  req.max_new_tokens = std::min(req.in.max_new_tokens, max_model_len_ - in);
  commit_.open(req, in);
  const TimeNs front_end_ns = front_end_delay_ns(req);
  if (front_end_ns > 0) {
    // The API server parses, tokenises and hands the request to the engine core after a delay;
    // the request is only visible to the scheduler afterwards.
    const std::uint64_t id = req.in.id;
    api_pending_.emplace(id, &req);
    queue_.schedule(now() + front_end_ns, [this, id] {
      auto it = api_pending_.find(id);
      if (it == api_pending_.end()) return;  // cancelled meanwhile
      SimRequest* r = it->second;
      api_pending_.erase(it);
      enqueue_for_scheduler(r);
      maybe_start_step();
    }, EventPriority::kArrival);
  } else {
    enqueue_for_scheduler(&req);
  }
  if (mode_ == Mode::kStatic && !state_.batch_forming()) {
    // A static batch is the requests submitted together: form it after every arrival at this instant
    // (kBatchFormation runs after same-time arrivals and the load driver), not at the first one.
    commit_.set_batch_forming(true);
    queue_.schedule(now(), [this] {
      commit_.set_batch_forming(false);
      maybe_start_step();
    }, EventPriority::kBatchFormation);
  }
  return {};
}

// Async scheduling (vllm_scheduling.md §1.3; V1 EngineCore with a batch queue of two): while step N runs on
// the GPU, step N+1 is already scheduled, and the engine core drains its input queue only between steps. A
// request that arrives while step N runs is first seen when step N+2 is scheduled, so under load its first
// token comes one step later than with synchronous scheduling. An idle engine core schedules it at once, and
// requests arriving at the instant a step was planned count as drained with it (a burst at t = 0).
void VllmEngine::enqueue_for_scheduler(SimRequest* r) {
  if (async_scheduling_ && step_running() && now() > planned_at_ns_) {
    async_held_.push_back({r, steps_started()});
  } else {
    commit_.enqueue(r);
  }
}

void VllmEngine::release_async_held(bool all) {
  // Planning step steps_started() + 1 now: requests held during step `tag` join from step tag + 2 on.
  auto seen = [&](const AsyncHeld& h) { return all || h.tag < steps_started(); };
  for (const AsyncHeld& h : async_held_) {
    if (seen(h)) commit_.enqueue(h.req);
  }
  async_held_.erase(std::remove_if(async_held_.begin(), async_held_.end(), seen), async_held_.end());
}

bool VllmEngine::plan_step(TimeNs now, Step& step) {
  planned_at_ns_ = now;
  release_async_held(false);
  bool any = planner_->plan(state_, commit_, step);
  if (!any && !async_held_.empty()) {
    // Nothing else to run: the scheduled-ahead step was empty, so the held requests go now.
    release_async_held(true);
    any = planner_->plan(state_, commit_, step);
  }
  update_ledger();
  if (any && observer_) observer_(step, state_.free_blocks());
  return any;
}

void VllmEngine::on_step_done(const Step& step) {
  bool any_done = false;
  for (const auto& item : step.items) {
    SimRequest* r = item.req;
    commit_.advance(r, item.prefill_tokens > 0 ? item.prefill_tokens : 1);
    if (r->done && !r->cancelled) {
      any_done = true;
      // Detokenisation/streaming of every token and the final response happen in the API server
      // after the engine finished the request (BLIS alpha1/alpha2).
      r->rec.finish_ns += api_finish_ns_ + static_cast<TimeNs>(std::llround(api_token_ns_ * static_cast<double>(r->generated)));
      commit_.close(*r);
    }
  }
  if (any_done) commit_.drop_finished();
  update_ledger();
}

void VllmEngine::on_cancel(SimRequest& req) {
  if (state_.seq(&req).req != &req) return;
  api_pending_.erase(req.in.id);
  async_held_.erase(std::remove_if(async_held_.begin(), async_held_.end(),
                                   [&](const AsyncHeld& h) { return h.req == &req; }),
                    async_held_.end());
  commit_.close(req);
  commit_.remove(&req);
  update_ledger();
}

void VllmEngine::update_ledger() { kv_.set_used(static_cast<double>(state_.pool().used()), now()); }

nlohmann::json VllmEngine::engine_stats() const {
  const std::uint64_t hits = state_.hit_tokens(), prompts = state_.prompt_tokens();
  return {{"scheduler", planner_->name()},
          {"num_gpu_blocks", state_.total_blocks()},
          {"block_size", limits_.block_size},
          {"max_model_len", max_model_len_},
          {"activation_reserve_bytes", activation_reserve_bytes_},
          {"preemptions", state_.preemptions()},
          {"prefix_cache_hit_tokens", hits},
          {"prompt_tokens", prompts},
          {"prefix_cache_hit_rate", prompts > 0 ? static_cast<double>(hits) / static_cast<double>(prompts) : 0.0},
          {"cached_block_evictions", state_.pool().evictions()},
          {"kv_cpu_offload_bytes", kv_offload_bytes_},
          {"kv_cpu_offload_modelled", false},
          {"max_waiting", state_.max_waiting()}};
}

// Engine kind `vllm` (sim/engine/engine_registry.hpp: called from the generated engine list).
void register_vllm_engine(EngineRegistry& registry) {
  registry.add({"vllm", "paged-KV engines: vLLM V1/V0 and static-batch planners, evict or no-evict capacity",
                [](EngineBuildContext& c) {
                  return std::make_unique<VllmEngine>(c.queue, c.listener, std::move(c.cost), c.model, c.gpu, c.settings);
                }});
}

}  // namespace servetwin
