// calibrate probe's design (live/probe/probe_design.hpp): the decode stages cover every batch at two
// contexts, and the long prompts are cut so that no batch can fill the server's KV cache (a probe that
// preempted would measure recompute, not decode).
#include <gtest/gtest.h>

#include <algorithm>

#include "live/probe/probe_design.hpp"

namespace servetwin::live {
namespace {

const ProbePhase* phase(const std::vector<ProbePhase>& phases, const std::string& name) {
  const auto it = std::find_if(phases.begin(), phases.end(), [&](const ProbePhase& p) { return p.name == name; });
  return it == phases.end() ? nullptr : &*it;
}

TEST(ProbeDesign, DecodeAtEveryBatchAndTwoContexts) {
  ProbeDesignOptions o;
  o.max_context_tokens = 2048;
  o.max_concurrency = 8;
  const auto phases = design_probe(o);
  const ProbePhase* decode = phase(phases, "decode");
  const ProbePhase* context = phase(phases, "decode-context");
  ASSERT_NE(decode, nullptr);
  ASSERT_NE(context, nullptr);
  EXPECT_EQ(decode->concurrency, (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(context->concurrency, decode->concurrency);
  // No KV size known: 40% of the longest prompt (2048 - 64), cut so that a round's prompts take at most
  // 70% of one step's 2,048-token budget.
  EXPECT_EQ(context->per_stage_input_tokens, (std::vector<std::int64_t>{794, 717, 358, 179}));
  for (std::size_t i = 0; i < context->concurrency.size(); ++i)
    EXPECT_LE(context->concurrency[i] * context->per_stage_input_tokens[i], 2048);
}

TEST(ProbeDesign, LongPromptsFitTheKvCache) {
  ProbeDesignOptions o;
  o.max_context_tokens = 2048;
  o.max_concurrency = 8;
  o.kv_block_tokens = 128;
  o.kv_tokens = 40 * 128;  // the short loop's server: 40 blocks
  const auto phases = design_probe(o);
  const ProbePhase* context = phase(phases, "decode-context");
  ASSERT_NE(context, nullptr);
  ASSERT_EQ(context->concurrency.size(), context->per_stage_input_tokens.size());
  for (std::size_t i = 0; i < context->concurrency.size(); ++i) {
    const std::int64_t c = context->concurrency[i], prompt = context->per_stage_input_tokens[i];
    const std::int64_t blocks = c * ((prompt + context->output_tokens + 127) / 128);
    EXPECT_LE(static_cast<double>(blocks), kDecodeKvShare * 40) << "batch " << c << " prompt " << prompt;
  }
  // A cache too small for long prompts at batch 4 and 8 (10 blocks) drops those stages rather than preempting.
  o.kv_tokens = 10 * 128;
  const auto small = design_probe(o);
  EXPECT_EQ(phase(small, "decode-context")->concurrency, (std::vector<int>{1, 2}));
  EXPECT_EQ(phase(small, "decode-context")->per_stage_input_tokens, (std::vector<std::int64_t>{794, 3 * 128 - 64}));
}

TEST(ProbeDesign, RoundsScaleWithTheBudget) {
  EXPECT_EQ(decode_rounds(1.0), 3);
  EXPECT_EQ(decode_rounds(0.0), 1);  // at least one measured round per stage
  ProbeDesignOptions o;
  const auto phases = design_probe(o);
  EXPECT_LT(estimate_probe_s(phases, 0.01, 1e-4, 0.0), estimate_probe_s(phases, 0.01, 1e-4, 1.0));
}

// The decode stages run interleaved: pass after pass, one round of every stage in design order, so a
// stage's rounds are spread over the decode part of the probe; a warm-up round in the first pass only,
// and none for the reference (run as the sentinels are).
TEST(ProbeDesign, DecodeStagesRunInterleavedPasses) {
  ProbeDesignOptions o;
  o.max_context_tokens = 2048;
  o.max_concurrency = 8;
  o.reference_input_tokens = 128;
  o.reference_output_tokens = 64;
  const auto phases = design_probe(o);
  const ProbePhase* ref = phase(phases, "reference");
  ASSERT_NE(ref, nullptr);
  EXPECT_EQ(ref->concurrency, (std::vector<int>{1}));
  EXPECT_EQ(ref->input_tokens, (std::vector<std::int64_t>{128}));
  EXPECT_EQ(phases.back().name, "burst");  // the burst stays last (it fills the server)
  EXPECT_FALSE(is_interleaved(*phase(phases, "prefill")));
  EXPECT_FALSE(is_interleaved(phases.back()));
  const auto schedule = interleaved_decode_schedule(phases, 3);
  const std::size_t per_pass = 4 + 4 + 1;  // decode c1-c8, decode-context c1-c8, reference
  ASSERT_EQ(schedule.size(), 3 * per_pass);
  for (std::size_t i = 0; i < schedule.size(); ++i) {
    const DecodeRound& r = schedule[i];
    EXPECT_EQ(r.pass, static_cast<int>(i / per_pass));
    const ProbePhase& p = phases[r.phase];
    EXPECT_EQ(r.warmup, r.pass == 0 && p.name != "reference") << i;
    // Pass after pass, the same stage order: round i and i + per_pass are the same stage.
    if (i >= per_pass) {
      EXPECT_EQ(schedule[i - per_pass].phase, r.phase);
      EXPECT_EQ(schedule[i - per_pass].stage, r.stage);
    }
  }
  EXPECT_EQ(phases[schedule[0].phase].name, "decode");
  EXPECT_EQ(phases[schedule[per_pass - 1].phase].name, "reference");
  // No reference shape: no reference phase.
  EXPECT_EQ(phase(design_probe(ProbeDesignOptions{}), "reference"), nullptr);
}

TEST(ProbeDesign, PassesFillTheSpanTheBudgetPays) {
  // At least the rounds of the scale, whatever the span or spare budget.
  EXPECT_EQ(decode_passes(1.0, 5.0, 0.0, 0.0), 3);
  EXPECT_EQ(decode_passes(0.0, 5.0, 100.0, -10.0), 1);
  // 90 s span at 5 s per pass: 18 passes when the spare budget pays for the 15 extra ones...
  EXPECT_EQ(decode_passes(1.0, 5.0, 90.0, 1000.0), 18);
  // ...only what the spare budget pays for when it is less (40 s: 8 extra passes)...
  EXPECT_EQ(decode_passes(1.0, 5.0, 90.0, 40.0), 11);
  // ...and never more than kMaxDecodePasses.
  EXPECT_EQ(decode_passes(1.0, 0.5, 90.0, 1000.0), kMaxDecodePasses);
  ProbeDesignOptions o;
  o.max_concurrency = 8;
  const auto phases = design_probe(o);
  EXPECT_GT(estimate_decode_pass_s(phases, 0.01, 1e-4), 0.0);
  // One pass is one round of each interleaved stage: less than the whole design at 3 rounds.
  EXPECT_LT(3 * estimate_decode_pass_s(phases, 0.01, 1e-4), estimate_probe_s(phases, 0.01, 1e-4, 1.0));
}

}  // namespace
}  // namespace servetwin::live
