#include "sim/engine/tgis_engine.hpp"

#include <algorithm>
#include <cmath>

#include "sim/catalog/catalog.hpp"
#include "sim/engine/engine_registry.hpp"

namespace servetwin {

TgisEngine::TgisEngine(EventQueue& queue, SimListener* listener, CostModel cost, const ModelSpec& model,
                       const GpuSpec& gpu, EngineSettings& s)
    : EngineBase(queue, listener, std::move(cost), "tgis") {
  // Which published rows the preset's fitted values came from (validate excludes them from scoring).
  (void)s.text("fitted_on", "none");
  TgisWeights& w = rules_.weights;
  w.e1 = s.choice("era", "E2", {"E1", "E2"}) == "E1";
  w.padded = s.choice("batch_type", "flash", {"flash", "padded"}) == "padded";
  rules_.kv_concat = s.flag("kv_concat_per_step", !w.padded);
  rules_.max_batch_size = s.integer("max_batch_size", 12, 1, 100000);
  max_concurrent_ = s.integer("max_concurrent_requests", w.e1 ? 96 : 512, 1, 10000000);
  max_seq_len_ = s.integer("max_sequence_length", model.max_position_embeddings, 2, 10000000);
  max_new_tokens_ = s.integer("max_new_tokens", 1024, 1, 10000000);
  max_new_tokens_ = std::min(max_new_tokens_, max_seq_len_ - 1);  // launcher clamps (§1.1)
  rules_.max_waiting_tokens = s.integer("max_waiting_tokens", 24, 1, 100000);
  rules_.max_prefill_padding = s.number("max_prefill_padding", 0.2, 0, 1);
  const double margin_pct = s.number("batch_safety_margin_pct", 20, 0, 99);
  const double context_bytes = s.number("cuda_context_bytes", 1.0 * (1 << 30), 0, 1e12);
  const double nt_kv_multiple = s.number("decode_bytes_per_token_kv_multiple", 2.0, 0.1, 100);
  const double pf_extra_bytes = s.number("prefill_activation_bytes_per_token", -1, -1, 1e9);
  const double user_batch_weight = s.number("max_batch_weight", 0, 0, 1e18);
  const double user_prefill_weight = s.number("max_prefill_weight", -1, -1, 1e18);

  const double gpu_mem = gpu.usable_memory_bytes > 0 ? gpu.usable_memory_bytes : gpu.memory_bytes;
  memory_ = compute_memory_budget(gpu_mem, context_bytes, cost_model().weight_bytes_per_gpu(), 0);
  if (!memory_.fits()) {
    throw DoesNotFitError("model does not fit: weights need " + std::to_string(memory_.weight_bytes / 1e9) +
                      " GB per GPU, GPU has " + std::to_string(gpu_mem / 1e9) + " GB minus " +
                      std::to_string(context_bytes / 1e9) + " GB CUDA context");
  }
  const double kv_tok = cost_model().kv_bytes_per_token_per_gpu();
  rules_.kv_bytes_per_token = kv_tok;
  if (w.e1) {
    // Token-unit weights (§1.2). Default limit = MAX_BATCH_SIZE x MAX_SEQUENCE_LENGTH (squared when padded);
    // a user value above it is reduced to it.
    const double seq = static_cast<double>(max_seq_len_);
    const double def = static_cast<double>(rules_.max_batch_size) * (w.padded ? seq * seq : seq);
    w.limit = user_batch_weight > 0 ? std::min(user_batch_weight, def) : def;
    rules_.prefill_limit = user_prefill_weight >= 0 ? user_prefill_weight : (w.padded ? 300000.0 : 8192.0);
    kv_ = KvLedger(w.padded ? "padded-weight" : "tokens", w.limit);
  } else {
    // Byte weights from the memory model (§1.6): limit = (1 - margin) x free memory after load.
    w.limit = std::floor((1 - margin_pct / 100) * memory_.free_bytes);
    // Decode coefficient: bytes per token of the batch. torch.cat rebuilds the contiguous KV every
    // step, so old and new copies coexist at the peak the characteriser measures.
    w.nt_coef = nt_kv_multiple * kv_tok;
    // Prefill coefficient: KV plus activations per prompt token; the largest are the LM-head logits of
    // every prompt token (fp16 gathered + fp32 softmax copy: 6 bytes x vocab) and the MLP
    // intermediates (gate, up, product: 3 x 2 bytes x ffn/tp).
    w.pf_coef = kv_tok + (pf_extra_bytes >= 0 ? pf_extra_bytes
                                              : 6.0 * model.vocab_size + 6.0 * model.intermediate_size / cost_model().tp());
    kv_ = KvLedger("bytes", w.limit);
    // The launcher refuses to start when one max-length sequence cannot fit (§1.6).
    if (w.nt_coef * static_cast<double>(max_seq_len_) > w.limit) {
      throw DoesNotFitError("TGIS would not start: one sequence of max_sequence_length " + std::to_string(max_seq_len_) +
                        " needs " + std::to_string(w.nt_coef * static_cast<double>(max_seq_len_) / 1e9) +
                        " GB of batch memory, limit is " + std::to_string(w.limit / 1e9) + " GB");
    }
  }
  // TGIS never evicts: a candidate joins only when the batch's projected peak weight fits the limit.
  capacity_ = make_capacity_policy("projected_peak");
  planner_ = make_tgis_planner(rules_);
  commit_.configure(kv_.unit(), w.limit, *capacity_);
}

EngineLimits TgisEngine::limits() const {
  return EngineLimits{max_seq_len_, max_new_tokens_, max_concurrent_};
}

EngineBase::Admission TgisEngine::admit(SimRequest& req) {
  // The permit semaphore counts every request held by the server: queued, in a prefill or running
  // (§1.5). in_flight() already includes this arrival.
  if (static_cast<std::int64_t>(in_flight()) - 1 >= max_concurrent_) {
    return {false, RequestStatus::kRejected, "RESOURCE_EXHAUSTED: Model is overloaded"};
  }
  const std::int64_t in = req.in.input_tokens;
  if (in >= max_seq_len_) {
    return {false, RequestStatus::kRejected, "INVALID_ARGUMENT: input tokens >= max_sequence_length"};
  }
  if (in + req.in.min_new_tokens > max_seq_len_) {
    return {false, RequestStatus::kRejected, "INVALID_ARGUMENT: input + min_new_tokens > max_sequence_length"};
  }
  if (req.in.max_new_tokens > max_new_tokens_) {
    return {false, RequestStatus::kRejected, "INVALID_ARGUMENT: max_new_tokens > MAX_NEW_TOKENS"};
  }
  req.max_new_tokens = std::min(req.in.max_new_tokens, max_seq_len_ - in);  // clamp (stop reason TOKEN_LIMIT)
  commit_.enqueue(&req);
  return {};
}

bool TgisEngine::plan_step(TimeNs now, Step& step) {
  commit_.set_now(now);
  return planner_->plan(state_, commit_, step);
}

void TgisEngine::on_step_done(const Step& step) {
  if (step.is_prefill_only) {
    commit_.prefill_done(step);
  } else {
    commit_.decode_done();
  }
  kv_.set_used(rules_.weights.current(state_.running()), step.end_ns);
}

void TgisEngine::on_cancel(SimRequest& req) {
  commit_.close(req);
  kv_.set_used(rules_.weights.current(state_.running()), now());
}

nlohmann::json TgisEngine::engine_stats() const {
  const TgisWeights& w = rules_.weights;
  return {{"era", w.e1 ? "E1" : "E2"},
          {"batch_type", w.padded ? "padded" : "flash"},
          {"weight_limit", w.limit},
          {"weight_unit", kv_.unit()},
          {"decode_bytes_per_token", w.e1 ? 0.0 : w.nt_coef},
          {"prefill_bytes_per_token", w.e1 ? 0.0 : w.pf_coef},
          {"addon_prefills", state_.addon_prefills()},
          {"skipped_candidates", state_.skipped_candidates()},
          {"max_queue", state_.max_waiting()}};
}

// Engine kind `tgis` (sim/engine/engine_registry.hpp: called from the generated engine list).
void register_tgis_engine(EngineRegistry& registry) {
  registry.add({"tgis", "IBM TGIS router + flash/padded shard (E1/E2 batch weights, add-on prefill, no preemption)", [](EngineBuildContext& c) {
                  return std::make_unique<TgisEngine>(c.queue, c.listener, std::move(c.cost), c.model, c.gpu, c.settings);
                }});
}

}  // namespace servetwin
