#!/usr/bin/env bash
# Issue 7, deliverable 5: `servetwin show gpu X` prints X's hardware profile with the provenance and source
# of every parameter, for every GPU the issue lists.
set -uo pipefail
bin="$1"
fail=0
params=(gemm_eff_max gemm_m_half_tokens gemm_bw_eff attn_prefill_flops_eff attn_decode_bw_eff
        elementwise_bw_eff step_overhead_ns layer_overhead_ns copy_bw_eff)
for gpu in A10G L4 L40S A100-40GB-SXM A100-80GB-SXM H100-SXM H100-PCIe H200; do
  out="$("$bin" show gpu "$gpu" 2>&1)" || { echo "FAIL: show gpu $gpu exited $?"; echo "$out"; fail=1; continue; }
  profile="$(sed -n '/^hardware profile/,$p' <<<"$out")"
  if [[ -z "$profile" ]]; then echo "FAIL: show gpu $gpu prints no hardware profile"; fail=1; continue; fi
  for p in "${params[@]}"; do
    if ! grep -Eq "^${p}: [0-9.e+-]+ \((measured|fitted|datasheet|assumed)\)  \[source: .+\]" <<<"$profile"; then
      echo "FAIL: show gpu $gpu: '$p' lacks a value, provenance or source"; fail=1
    fi
  done
  [[ $fail -eq 0 ]] && echo "ok: show gpu $gpu"
done
exit $fail
