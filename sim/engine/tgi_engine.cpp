#include "sim/engine/tgi_engine.hpp"

#include <algorithm>
#include <cmath>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_registry.hpp"

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
  max_batch_prefill_tokens_ = s.integer("max_batch_prefill_tokens", v2 ? ceil16(max_input_length_ + 50) : 4096, 1, 100000000);
  max_waiting_tokens_ = s.integer("max_waiting_tokens", 20, 1, 100000);
  waiting_served_ratio_ = s.number("waiting_served_ratio", 1.2, 0, 1000);
  const double memory_fraction = s.number("cuda_memory_fraction", 1.0, 0.05, 1.0);
  const double context_bytes = s.number("cuda_context_bytes", 0, 0, 1e12);
  const double user_total = s.number("max_batch_total_tokens", 0, 0, 1e12);
  if (max_input_length_ >= max_total_tokens_) {
    throw ConfigError("tgi: max_input_length must be < max_total_tokens (the launcher refuses otherwise)");
  }
  if (max_batch_prefill_tokens_ < max_input_length_) {
    throw ConfigError("tgi: max_batch_prefill_tokens must be >= max_input_length (the launcher refuses otherwise)");
  }
  // Warmup (§3.2): the shard runs one prefill of max_batch_prefill_tokens tokens, then turns the
  // free memory into KV blocks. The warmup's activation peak stays allocated by the caching
  // allocator: hidden-state buffers and MLP intermediates per token, and fp32 logits of the last
  // token per request (at most max_batch_prefill_tokens / max_input_length requests).
  const double tp = cost_model().tp();
  const double per_token = 2.0 * (4.0 * model.hidden_size + 3.0 * model.intermediate_size / tp);
  const double warm_reqs = std::ceil(static_cast<double>(max_batch_prefill_tokens_) / static_cast<double>(max_input_length_));
  const double activation = per_token * static_cast<double>(max_batch_prefill_tokens_) + 8.0 * warm_reqs * model.vocab_size / tp;
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
  queue_entries_.push_back(&req);
  max_queue_ = std::max<std::int64_t>(max_queue_, static_cast<std::int64_t>(queue_entries_.size()));
  return {};
}

std::int64_t TgiEngine::running_reserved() const {
  std::int64_t t = 0;
  for (const auto* r : running_) t += reserved_tokens(*r);
  return t;
}

std::vector<SimRequest*> TgiEngine::next_batch(std::int64_t min_size, std::int64_t token_budget) {
  std::int64_t prefill = 0, decode = 0;
  std::size_t n = 0;
  for (; n < queue_entries_.size(); ++n) {
    const SimRequest* r = queue_entries_[n];
    const std::int64_t p = prefill + ceil16(r->in.input_tokens);
    const std::int64_t d = decode + ceil16(r->max_new_tokens);
    if (p > max_batch_prefill_tokens_ || p + d > token_budget) break;  // head-of-line blocking
    prefill = p;
    decode = d;
  }
  if (n == 0 || (min_size > 0 && static_cast<std::int64_t>(n) < min_size)) return {};
  std::vector<SimRequest*> batch(queue_entries_.begin(), queue_entries_.begin() + static_cast<std::ptrdiff_t>(n));
  queue_entries_.erase(queue_entries_.begin(), queue_entries_.begin() + static_cast<std::ptrdiff_t>(n));
  return batch;
}

void TgiEngine::build_prefill(const std::vector<SimRequest*>& batch, Step& step) const {
  StepShape& s = step.shape;
  for (auto* r : batch) {
    const std::int64_t in = r->in.input_tokens;
    step.items.push_back({r, in, true});
    s.prefill_seqs += 1;
    s.prefill_tokens += in;
    s.prefill_attn_pairs += static_cast<double>(in) * static_cast<double>(in + 1) / 2;
  }
  // TGI 1.0 flash models compute logits only at the last prompt token of each request.
  s.lm_head_tokens = s.prefill_seqs;
  step.is_prefill_only = true;
}

void TgiEngine::build_decode(Step& step) const {
  StepShape& s = step.shape;
  for (auto* r : running_) {
    step.items.push_back({r, 0, true});
    s.decode_kv_tokens += r->context_len() + 1;
  }
  s.decode_seqs = static_cast<std::int64_t>(running_.size());
  s.lm_head_tokens = s.decode_seqs;
}

bool TgiEngine::plan_step(TimeNs now, Step& step) {
  const bool any = plan(now, step);
  if (any && observer_) {
    std::int64_t reserved = running_reserved();
    if (step.is_prefill_only) {
      for (const auto& i : step.items) reserved += reserved_tokens(*i.req);
    }
    observer_(step, max_batch_total_tokens_ - reserved);
  }
  return any;
}

bool TgiEngine::plan(TimeNs /*now*/, Step& step) {
  if (running_.empty()) {
    auto batch = next_batch(0, max_batch_total_tokens_);
    if (batch.empty()) return false;
    build_prefill(batch, step);
    decode_follows_addon_ = false;
    return true;
  }
  if (!decode_follows_addon_ && !queue_entries_.empty()) {
    const auto bs = static_cast<double>(running_.size());
    const std::int64_t min_size = waiting_tokens_ >= max_waiting_tokens_
                                      ? 0
                                      : std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(bs * waiting_served_ratio_)));
    auto batch = next_batch(min_size, max_batch_total_tokens_ - running_reserved());
    if (!batch.empty()) {
      build_prefill(batch, step);
      decode_follows_addon_ = true;
      ++addon_prefills_;
      return true;
    }
  }
  build_decode(step);
  decode_follows_addon_ = false;
  return true;
}

void TgiEngine::on_step_done(const Step& step) {
  for (const auto& item : step.items) {
    if (item.req->done && !item.req->cancelled) --permits_held_;
  }
  if (step.is_prefill_only) {
    for (const auto& item : step.items) {
      if (!item.req->done && !item.req->cancelled) running_.push_back(item.req);
    }
    waiting_tokens_ = 1;
  } else {
    ++waiting_tokens_;
  }
  running_.erase(std::remove_if(running_.begin(), running_.end(), [](const SimRequest* r) { return r->done || r->cancelled; }),
                 running_.end());
  kv_.set_used(static_cast<double>(running_reserved()), step.end_ns);
}

void TgiEngine::on_cancel(SimRequest& req) {
  --permits_held_;
  queue_entries_.erase(std::remove(queue_entries_.begin(), queue_entries_.end(), &req), queue_entries_.end());
  running_.erase(std::remove(running_.begin(), running_.end(), &req), running_.end());
  kv_.set_used(static_cast<double>(running_reserved()), now());
}

nlohmann::json TgiEngine::engine_stats() const {
  return {{"max_batch_total_tokens", max_batch_total_tokens_},
          {"addon_prefills", addon_prefills_},
          {"max_queue", max_queue_}};
}

// Engine kind `tgi` (sim/engine/engine_registry.hpp: called from the generated engine list).
void register_tgi_engine(EngineRegistry& registry) {
  registry.add({"tgi", "Hugging Face TGI 1.0 router + flash shard (FIFO, full-length reservation, waiting_served_ratio)", [](EngineBuildContext& c) {
                  return std::make_unique<TgiEngine>(c.queue, c.listener, std::move(c.cost), c.model, c.gpu, c.settings);
                }});
}

}  // namespace servetwin
