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
  era_ = s.choice("era", "E2", {"E1", "E2"}) == "E1" ? Era::kE1 : Era::kE2;
  padded_ = s.choice("batch_type", "flash", {"flash", "padded"}) == "padded";
  kv_concat_ = s.flag("kv_concat_per_step", !padded_);
  max_batch_size_ = s.integer("max_batch_size", 12, 1, 100000);
  max_concurrent_ = s.integer("max_concurrent_requests", era_ == Era::kE1 ? 96 : 512, 1, 10000000);
  max_seq_len_ = s.integer("max_sequence_length", model.max_position_embeddings, 2, 10000000);
  max_new_tokens_ = s.integer("max_new_tokens", 1024, 1, 10000000);
  max_new_tokens_ = std::min(max_new_tokens_, max_seq_len_ - 1);  // launcher clamps (§1.1)
  max_waiting_tokens_ = s.integer("max_waiting_tokens", 24, 1, 100000);
  max_prefill_padding_ = s.number("max_prefill_padding", 0.2, 0, 1);
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
  if (era_ == Era::kE1) {
    // Token-unit weights (§1.2). Default limit = MAX_BATCH_SIZE x MAX_SEQUENCE_LENGTH (squared when padded);
    // a user value above it is reduced to it.
    const double seq = static_cast<double>(max_seq_len_);
    const double def = static_cast<double>(max_batch_size_) * (padded_ ? seq * seq : seq);
    weight_limit_ = user_batch_weight > 0 ? std::min(user_batch_weight, def) : def;
    prefill_limit_ = user_prefill_weight >= 0 ? user_prefill_weight : (padded_ ? 300000.0 : 8192.0);
    kv_ = KvLedger(padded_ ? "padded-weight" : "tokens", weight_limit_);
  } else {
    // Byte weights from the memory model (§1.6): limit = (1 - margin) x free memory after load.
    weight_limit_ = std::floor((1 - margin_pct / 100) * memory_.free_bytes);
    // Decode coefficient: bytes per token of the batch. torch.cat rebuilds the contiguous KV every
    // step, so old and new copies coexist at the peak the characteriser measures.
    nt_coef_ = nt_kv_multiple * kv_tok;
    // Prefill coefficient: KV plus activations per prompt token; the largest are the LM-head logits of
    // every prompt token (fp16 gathered + fp32 softmax copy: 6 bytes x vocab) and the MLP
    // intermediates (gate, up, product: 3 x 2 bytes x ffn/tp).
    pf_coef_ = kv_tok + (pf_extra_bytes >= 0 ? pf_extra_bytes
                                             : 6.0 * model.vocab_size + 6.0 * model.intermediate_size / cost_model().tp());
    kv_ = KvLedger("bytes", weight_limit_);
    // The launcher refuses to start when one max-length sequence cannot fit (§1.6).
    if (nt_coef_ * static_cast<double>(max_seq_len_) > weight_limit_) {
      throw DoesNotFitError("TGIS would not start: one sequence of max_sequence_length " + std::to_string(max_seq_len_) +
                        " needs " + std::to_string(nt_coef_ * static_cast<double>(max_seq_len_) / 1e9) +
                        " GB of batch memory, limit is " + std::to_string(weight_limit_ / 1e9) + " GB");
    }
  }
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
  buffer_.push_back(&req);
  max_queue_ = std::max<std::int64_t>(max_queue_, static_cast<std::int64_t>(buffer_.size()));
  return {};
}

double TgisEngine::current_weight() const {
  if (padded_) {
    std::int64_t max_len = 0;
    for (const auto* r : running_) max_len = std::max(max_len, r->context_len());
    const double bs = static_cast<double>(running_.size()), len = static_cast<double>(max_len);
    return era_ == Era::kE1 ? bs * len * len : nt_coef_ * bs * len;
  }
  double tokens = 0;
  for (const auto* r : running_) tokens += static_cast<double>(r->context_len());
  return era_ == Era::kE1 ? tokens : nt_coef_ * tokens;
}

double TgisEngine::projected_peak_weight(std::vector<Candidate> all) const {
  // Sort by remaining output, longest first; when the k-th finishes, requests 1..k are still in the
  // batch, each grown by out_k tokens.
  std::sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    return a.remaining != b.remaining ? a.remaining > b.remaining : a.len > b.len;
  });
  double peak = 0, len_sum = 0, len_max = 0;
  for (std::size_t k = 0; k < all.size(); ++k) {
    const double len = static_cast<double>(all[k].len), out = static_cast<double>(all[k].remaining);
    const double n = static_cast<double>(k + 1);
    len_sum += len;
    len_max = std::max(len_max, len);
    double w = 0;
    if (padded_) {
      const double per_seq = len_max + out;
      w = era_ == Era::kE1 ? n * per_seq * per_seq : nt_coef_ * n * per_seq;
    } else {
      w = (era_ == Era::kE1 ? 1.0 : nt_coef_) * (len_sum + n * out);
    }
    peak = std::max(peak, w);
  }
  return peak;
}

double TgisEngine::prefill_weight(const std::vector<SimRequest*>& batch) const {
  double sum_in = 0, max_in = 0;
  for (const auto* r : batch) {
    sum_in += static_cast<double>(r->in.input_tokens);
    max_in = std::max(max_in, static_cast<double>(r->in.input_tokens));
  }
  const double bs = static_cast<double>(batch.size());
  if (era_ == Era::kE1) return padded_ ? bs * std::pow(max_in, 1.5) : sum_in;
  return pf_coef_ * (padded_ ? bs * max_in : sum_in);
}

std::vector<SimRequest*> TgisEngine::try_next_batch(std::int64_t min_size) {
  const auto running = static_cast<std::int64_t>(running_.size());
  if (static_cast<std::int64_t>(buffer_.size()) < min_size || running + min_size > max_batch_size_) return {};
  // Prefill limit, scaled by the free fraction of the batch limit when a batch is running (§1.2).
  const double cur = current_weight();
  double pf_limit = 0;
  if (era_ == Era::kE1) {
    pf_limit = prefill_limit_ <= 0 ? 1e300 : (running > 0 ? prefill_limit_ * (1 - cur / weight_limit_) : prefill_limit_);
  } else {
    pf_limit = running > 0 ? weight_limit_ - cur : weight_limit_;
  }
  if (pf_limit <= 0) return {};

  std::vector<Candidate> base;
  base.reserve(running_.size() + buffer_.size());
  for (const auto* r : running_) base.push_back({r->context_len(), r->max_new_tokens - r->generated});
  const double fast_base = [&] {
    double w = 0;
    for (const auto& c : base) w += static_cast<double>(c.len + c.remaining);
    return w;
  }();

  std::vector<SimRequest*> chosen;
  std::vector<std::size_t> chosen_idx;
  double fast_sum = fast_base;
  TimeNs cutoff = -1;
  for (std::size_t i = 0; i < buffer_.size(); ++i) {
    SimRequest* cand = buffer_[i];
    if (cutoff >= 0 && cand->rec.arrival_ns > cutoff) break;
    if (running + static_cast<std::int64_t>(chosen.size()) >= max_batch_size_) break;
    const Candidate c{cand->in.input_tokens, cand->max_new_tokens};
    // Memory: fast worst-case bound first, the exact projection only when that bound is exceeded.
    bool mem_ok = false;
    const double fast = fast_sum + static_cast<double>(c.len + c.remaining);
    if (!padded_ && (era_ == Era::kE1 ? fast : nt_coef_ * fast) <= weight_limit_) {
      mem_ok = true;
    } else {
      base.push_back(c);
      mem_ok = projected_peak_weight(base) <= weight_limit_;
      base.pop_back();
    }
    bool ok = mem_ok;
    if (!mem_ok) {
      const auto left = static_cast<std::int64_t>(buffer_.size() - i - 1);
      if (static_cast<std::int64_t>(chosen.size()) + left < min_size) return {};
    }
    if (ok) {
      chosen.push_back(cand);
      ok = prefill_weight(chosen) <= pf_limit;
      if (ok && padded_ && era_ == Era::kE2) {
        double sum_in = 0, max_in = 0;
        for (const auto* r : chosen) {
          sum_in += static_cast<double>(r->in.input_tokens);
          max_in = std::max(max_in, static_cast<double>(r->in.input_tokens));
        }
        const double total = static_cast<double>(chosen.size()) * max_in;
        ok = (total - sum_in) / total <= max_prefill_padding_;
      }
      chosen.pop_back();
    }
    if (!ok) {
      ++skipped_candidates_;
      if (cutoff < 0) cutoff = cand->rec.arrival_ns + static_cast<TimeNs>(cutoff_ns_);
      continue;
    }
    chosen.push_back(cand);
    chosen_idx.push_back(i);
    base.push_back(c);
    fast_sum = fast;
  }
  if (static_cast<std::int64_t>(chosen.size()) < min_size || chosen.empty()) return {};
  for (auto it = chosen_idx.rbegin(); it != chosen_idx.rend(); ++it) {
    buffer_.erase(buffer_.begin() + static_cast<std::ptrdiff_t>(*it));
  }
  return chosen;
}

void TgisEngine::build_prefill(const std::vector<SimRequest*>& batch, Step& step) const {
  StepShape& s = step.shape;
  std::int64_t max_in = 0;
  for (auto* r : batch) {
    const std::int64_t in = r->in.input_tokens;
    step.items.push_back({r, in, true});  // the prefill also produces the first token
    s.prefill_seqs += 1;
    s.prefill_tokens += in;
    s.prefill_attn_pairs += static_cast<double>(in) * static_cast<double>(in + 1) / 2;
    max_in = std::max(max_in, in);
  }
  // TGIS computes LM-head logits for every prompt token (no lm_head_indices, §1.7).
  s.lm_head_tokens = padded_ ? s.prefill_seqs * max_in : s.prefill_tokens;
  s.padded = padded_;
  s.padded_prefill_tokens = padded_ ? s.prefill_seqs * max_in : 0;
  step.is_prefill_only = true;
}

void TgisEngine::build_decode(Step& step) const {
  StepShape& s = step.shape;
  std::int64_t ctx_sum = 0, ctx_max = 0;
  for (auto* r : running_) {
    step.items.push_back({r, 0, true});
    ctx_sum += r->context_len();
    ctx_max = std::max(ctx_max, r->context_len());
  }
  const auto bs = static_cast<std::int64_t>(running_.size());
  s.decode_seqs = bs;
  s.decode_kv_tokens = ctx_sum + bs;  // attention reads the past plus the new token's own K/V
  s.lm_head_tokens = bs;
  s.padded = padded_;
  s.padded_decode_kv_tokens = padded_ ? bs * (ctx_max + 1) : 0;
  if (kv_concat_ && !padded_) {
    // torch.cat rebuilds the contiguous KV cache (read + write) every step when bs > 1, and once more
    // when an add-on batch was merged.
    const double kv_bytes = static_cast<double>(ctx_sum) * cost_model().kv_bytes_per_token_per_gpu();
    double copies = bs > 1 ? 1 : 0;
    if (merge_copy_pending_) copies += 1;
    s.copy_bytes_per_gpu = 2 * kv_bytes * copies;
  }
}

bool TgisEngine::plan_step(TimeNs now, Step& step) {
  if (running_.empty()) {
    auto batch = try_next_batch(1);
    if (batch.empty()) return false;
    build_prefill(batch, step);
    decode_follows_addon_ = false;
    return true;
  }
  if (!decode_follows_addon_ && !buffer_.empty()) {
    std::int64_t remaining_sum = 0;
    for (const auto* r : running_) remaining_sum += r->max_new_tokens - r->generated;
    const bool e2_delay_ok = era_ == Era::kE1 || last_prefill_end_ns_ < 0 ||
                             now > last_prefill_end_ns_ + last_prefill_duration_ns_ / 2;
    if (remaining_sum >= 2 && e2_delay_ok) {
      const auto bs = static_cast<std::int64_t>(running_.size());
      const std::int64_t min_size =
          (bs <= 1 || waiting_tokens_ >= max_waiting_tokens_)
              ? 1
              : std::max<std::int64_t>(1, bs * (max_waiting_tokens_ - waiting_tokens_) / max_waiting_tokens_);
      auto batch = try_next_batch(min_size);
      if (!batch.empty()) {
        build_prefill(batch, step);
        decode_follows_addon_ = true;
        ++addon_prefills_;
        return true;
      }
    }
  }
  build_decode(step);
  decode_follows_addon_ = false;
  return true;
}

void TgisEngine::on_step_done(const Step& step) {
  if (step.is_prefill_only) {
    if (!running_.empty()) merge_copy_pending_ = true;
    for (const auto& item : step.items) {
      if (!item.req->done && !item.req->cancelled) running_.push_back(item.req);
    }
    waiting_tokens_ = 1;
    last_prefill_end_ns_ = step.end_ns;
    last_prefill_duration_ns_ = step.end_ns - step.start_ns;
  } else {
    merge_copy_pending_ = false;
    ++waiting_tokens_;
    running_.erase(std::remove_if(running_.begin(), running_.end(),
                                  [](const SimRequest* r) { return r->done || r->cancelled; }),
                   running_.end());
  }
  kv_.set_used(current_weight(), step.end_ns);
}

void TgisEngine::on_cancel(SimRequest& req) {
  buffer_.erase(std::remove(buffer_.begin(), buffer_.end(), &req), buffer_.end());
  running_.erase(std::remove(running_.begin(), running_.end(), &req), running_.end());
  kv_.set_used(current_weight(), now());
}

nlohmann::json TgisEngine::engine_stats() const {
  return {{"era", era_ == Era::kE1 ? "E1" : "E2"},
          {"batch_type", padded_ ? "padded" : "flash"},
          {"weight_limit", weight_limit_},
          {"weight_unit", kv_.unit()},
          {"decode_bytes_per_token", era_ == Era::kE2 ? nt_coef_ : 0.0},
          {"prefill_bytes_per_token", era_ == Era::kE2 ? pf_coef_ : 0.0},
          {"addon_prefills", addon_prefills_},
          {"skipped_candidates", skipped_candidates_},
          {"max_queue", max_queue_}};
}

// Engine kind `tgis` (sim/engine/engine_registry.hpp: called from the generated engine list).
void register_tgis_engine(EngineRegistry& registry) {
  registry.add({"tgis", "IBM TGIS router + flash/padded shard (E1/E2 batch weights, add-on prefill, no preemption)", [](EngineBuildContext& c) {
                  return std::make_unique<TgisEngine>(c.queue, c.listener, std::move(c.cost), c.model, c.gpu, c.settings);
                }});
}

}  // namespace servetwin
