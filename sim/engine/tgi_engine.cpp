#include "sim/engine/tgi_engine.hpp"

#include <algorithm>
#include <cmath>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_registry.hpp"
#include "sim/engine/tgi_planner.hpp"

namespace servetwin {

TgiEngine::TgiEngine(EventQueue& queue, SimListener* listener, CostModel cost, const ModelSpec& model,
                     const GpuSpec& gpu, EngineSettings& s)
    : EngineBase(queue, listener, std::move(cost), "tgi") {
  max_concurrent_ = s.integer("max_concurrent_requests", 128, 1, 100000000);
  // `launcher_defaults: v2` (TGI 2.x launcher/src/main.rs): unset limits follow the model: max_input_tokens =
  // P - 1, max_total_tokens = P with P = min(max_position_embeddings, 4096), and max_batch_prefill_tokens =
  // max_input_tokens + 50, which the 2.x queue pads up to a multiple of its 16-token block. Read only when
  // a preset names it (tgi-1.0 does not), so the 1.0 preset resolves the same settings as before.
  const bool v2 = s.has("launcher_defaults") && s.choice("launcher_defaults", "v1", {"v1", "v2"}) == "v2";
  const std::int64_t positions = std::min<std::int64_t>(model.max_position_embeddings, 4096);
  max_input_length_ = s.integer("max_input_length", v2 ? positions - 1 : 1024, 1, 100000000);
  max_total_tokens_ = s.integer("max_total_tokens", v2 ? positions : 2048, 2, 100000000);
  TgiRules rules;
  rules.max_batch_prefill_tokens =
      s.integer("max_batch_prefill_tokens", v2 ? tgi_ceil16(max_input_length_ + 50) : 4096, 1, 100000000);
  rules.max_waiting_tokens = s.integer("max_waiting_tokens", 20, 1, 100000);
  rules.waiting_served_ratio = s.number("waiting_served_ratio", 1.2, 0, 1000);
  const double memory_fraction = s.number("cuda_memory_fraction", 1.0, 0.05, 1.0);
  const double context_bytes = s.number("cuda_context_bytes", 0, 0, 1e12);
  const double user_total = s.number("max_batch_total_tokens", 0, 0, 1e12);
  if (max_input_length_ >= max_total_tokens_) {
    throw ConfigError("tgi: max_input_length must be < max_total_tokens (the launcher refuses otherwise)");
  }
  if (rules.max_batch_prefill_tokens < max_input_length_) {
    throw ConfigError("tgi: max_batch_prefill_tokens must be >= max_input_length (the launcher refuses otherwise)");
  }
  // Warmup (§3.2): the shard runs one prefill of max_batch_prefill_tokens tokens, then turns the
  // free memory into KV blocks. The warmup's activation peak stays allocated by the caching
  // allocator: hidden-state buffers and MLP intermediates per token, and fp32 logits of the last
  // token per request (at most max_batch_prefill_tokens / max_input_length requests).
  const double tp = cost_model().tp();
  const double per_token = 2.0 * (4.0 * model.hidden_size + 3.0 * model.intermediate_size / tp);
  const double warm_reqs = std::ceil(static_cast<double>(rules.max_batch_prefill_tokens) / static_cast<double>(max_input_length_));
  const double activation = per_token * static_cast<double>(rules.max_batch_prefill_tokens) + 8.0 * warm_reqs * model.vocab_size / tp;
  const double device = gpu.usable_memory_bytes > 0 ? gpu.usable_memory_bytes : gpu.memory_bytes;
  memory_ = compute_memory_budget(device * memory_fraction, context_bytes, cost_model().weight_bytes_per_gpu(), activation);
  if (!memory_.fits()) {
    throw DoesNotFitError("TGI would not start: weights " + std::to_string(memory_.weight_bytes / 1e9) +
                          " GB + warmup activations exceed the GPU's " + std::to_string(device / 1e9) + " GB");
  }
  const double block_bytes = cost_model().kv_bytes_per_token_per_gpu() * 16.0;
  // Flash models ignore a user value (deprecation warning) and use the warmup result (§3.2); the
  // setting stays for non-flash-like experiments and tests.
  max_batch_total_tokens_ = user_total > 0 ? static_cast<std::int64_t>(user_total)
                                           : static_cast<std::int64_t>(std::floor(memory_.free_bytes / block_bytes)) * 16;
  if (max_batch_total_tokens_ < max_total_tokens_) {
    throw DoesNotFitError("TGI would not start: KV space for " + std::to_string(max_batch_total_tokens_) +
                          " tokens < max_total_tokens " + std::to_string(max_total_tokens_));
  }
  kv_ = KvLedger("tokens", static_cast<double>(max_batch_total_tokens_));
  // TGI never evicts: a batch starts only when its footprint fits next to the running reservations.
  capacity_ = make_capacity_policy("guaranteed_no_evict");
  planner_ = make_tgi_planner(rules);
  commit_.configure("tokens", static_cast<double>(max_batch_total_tokens_), *capacity_);
}

EngineLimits TgiEngine::limits() const {
  return EngineLimits{max_total_tokens_, max_total_tokens_ - 1, max_concurrent_};
}

EngineBase::Admission TgiEngine::admit(SimRequest& req) {
  // The permit is taken before validation (§3.5).
  if (permits_held_ >= max_concurrent_) {
    return {false, RequestStatus::kRejected, "429: Model is overloaded"};
  }
  const std::int64_t in = req.in.input_tokens;
  if (in > max_input_length_) return {false, RequestStatus::kRejected, "422: input tokens > max_input_length"};
  if (req.in.max_new_tokens <= 0) return {false, RequestStatus::kRejected, "422: max_new_tokens must be > 0"};
  if (in + req.in.max_new_tokens > max_total_tokens_) {
    return {false, RequestStatus::kRejected, "422: input + max_new_tokens > max_total_tokens"};
  }
  ++permits_held_;
  commit_.enqueue(&req);
  return {};
}

bool TgiEngine::plan_step(TimeNs now, Step& step) {
  commit_.set_now(now);
  const bool any = planner_->plan(state_, commit_, step);
  if (any && observer_) observer_(step, static_cast<std::int64_t>(state_.kv_free()));
  return any;
}

void TgiEngine::on_step_done(const Step& step) {
  for (const auto& item : step.items) {
    if (item.req->done && !item.req->cancelled) --permits_held_;
  }
  if (step.is_prefill_only) {
    commit_.prefill_done(step);
  } else {
    commit_.decode_done();
  }
  kv_.set_used(state_.kv_committed(), step.end_ns);
}

void TgiEngine::on_cancel(SimRequest& req) {
  --permits_held_;
  commit_.close(req);
  kv_.set_used(state_.kv_committed(), now());
}

nlohmann::json TgiEngine::engine_stats() const {
  return {{"max_batch_total_tokens", max_batch_total_tokens_},
          {"addon_prefills", state_.addon_prefills()},
          {"max_queue", state_.max_waiting()}};
}

// Engine kind `tgi` (sim/engine/engine_registry.hpp: called from the generated engine list).
void register_tgi_engine(EngineRegistry& registry) {
  registry.add({"tgi", "Hugging Face TGI 1.0 router + flash shard (FIFO, full-length reservation, waiting_served_ratio)", [](EngineBuildContext& c) {
                  return std::make_unique<TgiEngine>(c.queue, c.listener, std::move(c.cost), c.model, c.gpu, c.settings);
                }});
}

}  // namespace servetwin
