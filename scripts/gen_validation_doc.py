#!/usr/bin/python3
"""Generate docs/validation.md from `servetwin validate --json` output (never edit the .md by hand).

Usage: scripts/gen_validation_doc.py REPORT.json [OUT.md]
"""
import json
import os
import sys

# KV-cache capacities BLIS recorded for some of its H100 experiments
# (../shared/validation/published/README.md, blis_vllm_h100.csv caveats): (model, tp) -> 16-token blocks.
BLIS_KV_BLOCKS = {
    ("meta-llama/Llama-2-7b-hf", 1): 7463,
    ("meta-llama/Llama-3.1-70B-Instruct", 4): 30425,
    ("Qwen/Qwen2.5-7B-Instruct", 1): 65368,
    ("mistralai/Mistral-Nemo-Instruct-2407", 2): 48009,
    ("01-ai/Yi-34B", 2): 20793,
}


def fmt(v, digits=1):
    return "" if v is None else f"{v:.{digits}f}"


def pct(m, key):
    return "" if key not in m else f"{100 * m[key]:.0f}"


def metric_table(w, metrics, level):
    """Per metric: n, median / p90 / mean APE, bias, share off by 2x or more, coverage, interval coverage."""
    w(f"| metric | n | median APE % | p90 APE % | mean APE % | bias % | >= 2x off % | coverage % | "
      f"in {100 * (level or 0.8):.0f}% interval % (rows) |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for col, m in metrics.items():
        inside = "" if "interval_coverage" not in m else f"{100 * m['interval_coverage']:.0f} ({m['interval_n']})"
        bias = "" if "bias" not in m else f"{m['bias']:+.1f}"
        w(f"| `{col}` | {m['n']} | {fmt(m.get('median_ape'))} | {fmt(m.get('p90_ape'))} | {fmt(m.get('mean_ape'))} | "
          f"{bias} | {pct(m, 'off_2x_share')} | {pct(m, 'coverage')} | {inside} |")


def interval_section(w, report):
    if "interval_level" not in report:
        return
    level = 100 * report["interval_level"]
    w("## Prediction intervals")
    w("")
    w(f"Every prediction carries a {level:.0f}% interval (`--interval-level`) drawn from the residuals "
      "ln(predicted / measured) of this validation, shipped as data in `configs/validation/interval_residuals.csv` "
      "(regenerate with `scripts/update-intervals.sh`; `cli.interval_table` fails when it is stale). The residuals "
      "are pooled by regime, most specific pool first, and a pool needs at least 12 residuals from at least 3 "
      "sources (with two, the spread between sources rests on one pair; 2 gave 66% leave-one-source-out coverage "
      "on the visible sources, 3 gives the figure below), else the next coarser one is used: (1) metric family (throughput, TPOT/ITL, E2E, TTFT) + load bin + "
      "eager/CUDA-graph + whether the GPU and engine preset were seen in other sources; (2) without the novelty; "
      "(3) family + load bin; (4) family; (5) all residuals. Load bins: `batch` (every request arrived at once), "
      "else by the share of TTFT spent waiting to be scheduled: `light` < 0.5 <= `queued` < 0.9 <= `saturated`. "
      "Each source weighs the same in a pool. The band is symmetric in ln(predicted / measured): +-q, where q is "
      "the pool's split-conformal quantile of |bias of source t + deviation of a residual of source s from its "
      "source's mean| over every pair of sources t, s in the pool (a source's bias: its mean ln(predicted / "
      "measured)), the smallest score whose cumulative weight reaches level x (1 + 1/n_eff) (n_eff = (sum w)^2 / "
      "sum w^2 over the residuals, Kish's effective sample size; with equal weights this is the ceil((n + 1) "
      "level)-th smallest of n scores); the point prediction is unchanged. Why: the sign of a source's bias does "
      "not carry over to the next source, a new source may bring one source's bias with another's spread, and the "
      "plain empirical quantile of n scores covers a new one with probability ceil(n level) / (n + 1), below the "
      "level (see *Interval method* below).")
    w("")
    w("Here every row's interval is drawn **leave-one-source-out**: without the residuals of the row's own file "
      "and dataset, so the *in interval* column above is honest coverage for a source the intervals never saw. "
      "`out_of_evidence` (with a one-line reason) flags a configuration whose GPU and engine preset appear in no "
      "validated source, whose model size is outside the validated range, or whose load regime (or queueing "
      "depth, when saturated) no validated row reached.")
    w("")
    inside = total = 0
    for src in report["sources"].values():
        for m in src.get("metrics", {}).values():
            if m.get("interval_n"):
                total += m["interval_n"]
                inside += round(m["interval_coverage"] * m["interval_n"])
    if total:
        w(f"Over every source and metric: {inside} of {total} measured values ({100.0 * inside / total:.1f}%) lie "
          f"inside their {level:.0f}% interval (leave-one-source-out; the bar is 70-90%).")
        w("")
    rows = [r for r in report["rows"] if r.get("out_of_evidence")]
    w(f"{len(rows)} of {len(report['rows'])} rows ran out of evidence (leave-one-source-out).")
    w("")
    # Static text: why the interval method is what it is, with the before/after coverage it was chosen on.
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "validation_interval_method.md")) as f:
        w(f.read().rstrip("\n"))
    w("")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    report = json.load(open(sys.argv[1]))
    out_path = sys.argv[2] if len(sys.argv) > 2 else "docs/validation.md"
    lines = []
    w = lines.append
    w("# Validation against published measurements")
    w("")
    w("<!-- Generated by scripts/gen_validation_doc.py from `servetwin validate --json`; do not edit by hand. -->")
    w("")
    w("Regenerate: `servetwin validate --data ../shared/validation/published/*.csv --json build/validate.json && "
      "/usr/bin/python3 scripts/gen_validation_doc.py build/validate.json docs/validation.md`.")
    w("")
    w("Out of sample: public measurements outside ../shared (TensorRT-LLM 0.12 on H200, H100, A100 and L40S), run as "
      "checks and never fitted, are in [out_of_sample.md](out_of_sample.md) (hand-written; guarded by "
      "`ctest -R validate_out_of_sample`).")
    w("")
    c = report["coverage"]
    w(f"**Coverage:** {c['ran']} of {c['rows']} rows ran ({100 * c['fraction']:.1f} %); every other row is listed "
      "below with its reason.")
    w("")
    w("APE = |predicted - measured| / measured; bias = mean signed error (positive = over-prediction). Rows that "
      "belong to the fit set of the preset that predicted them run but are not scored (see *Fit split*).")
    w("")
    w("## Error per source and metric")
    w("")
    for name, src in report["sources"].items():
        w(f"### {name}")
        w("")
        w(f"{src['rows']} rows, {src['ran']} ran, {src['scored']} scored, {len(src['fit_excluded'])} fit rows "
          f"excluded, {len(src['unsupported'])} unsupported.")
        w("")
        if src["metrics"]:
            metric_table(w, src["metrics"], report.get("interval_level"))
            w("")
        if src["unsupported"]:
            w("Unsupported rows:")
            w("")
            reasons = {}
            for u in src["unsupported"]:
                reasons.setdefault(u["reason"], []).append(u["source_id"])
            for reason, ids in reasons.items():
                w(f"- {reason} ({len(ids)} rows): " + ", ".join(f"`{i}`" for i in ids))
            w("")
    interval_section(w, report)
    # Static text: the BLIS tail diagnosis (issue 17), prose with its own measured numbers.
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "validation_blis_tails.md")) as f:
        w(f.read().rstrip("\n"))
    w("")
    # Static text: the DistServe TTFT knee diagnosis (issue 17), numbers from scripts/distserve_records_kv.py.
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "validation_distserve_knee.md")) as f:
        w(f.read().rstrip("\n"))
    w("")
    w("## Metric definitions")
    w("")
    for k, v in report.get("metric_notes", {}).items():
        w(f"- `{k}`: {v}")
    w("")
    # Static text: how rows that leave their load out are read (kept in its own file so it is edited as prose).
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "validation_load_rules.md")) as f:
        w(f.read().rstrip("\n"))
    w("")
    w("## Fit split")
    w("")
    w("Each engine preset names the rows its fitted values came from (`fitted_on`); which rows those are, for which "
      "parameters and why, is data in `configs/validation/sources/<source>.yaml` (`fit_sets`). validate runs those "
      "rows but excludes them from the scores, and the split tests fail if one is scored.")
    w("")
    for name, src in report["sources"].items():
        if src["fit_excluded"]:
            sets = sorted({f["fit_set"] for f in src["fit_excluded"]})
            w(f"- {name}: {len(src['fit_excluded'])} rows excluded (fit sets: {', '.join(sets)})")
    w("")
    evidence = [r for r in report["rows"] if r.get("engine_evidence")]
    if evidence:
        w("## Engine settings read from a row's own records")
        w("")
        w("Where a row's per-request records show which engine rule ran (e.g. DistServe's prompt batches: "
          "`sim/validate/distserve_records.hpp`), validate says so and sets the preset accordingly:")
        w("")
        for r in evidence:
            w(f"- `{r['source_id']}` ({'scored' if r['scored'] else 'fit set'}): {r['engine_evidence']}")
        w("")
    w("## KV-cache capacity check (vLLM memory model vs BLIS's recorded block counts)")
    w("")
    w("| model | TP | simulated blocks | BLIS blocks | error % |")
    w("|---|---:|---:|---:|---:|")
    seen = set()
    for r in report["rows"]:
        key = (r["model"], r["tp"])
        es = r.get("engine", {}).get("engine_specific", {})
        if key in BLIS_KV_BLOCKS and key not in seen and "num_gpu_blocks" in es and \
                "gpu_memory_utilization" not in r["deployment"].get("engine_set", {}):
            seen.add(key)
            ref = BLIS_KV_BLOCKS[key]
            sim = es["num_gpu_blocks"]
            w(f"| {key[0]} | {key[1]} | {sim} | {ref} | {100 * (sim - ref) / ref:+.1f} |")
    w("")
    w("## Per-row predictions")
    w("")
    for name in report["sources"]:
        rows = [r for r in report["rows"] if r["file"] == name]
        if not rows:
            continue
        cols = sorted({c for r in rows for c in r["measured"]})
        w(f"### {name}")
        w("")
        w("| source_id | preset | scored | " + " | ".join(f"{c} (pred / meas)" for c in cols) + " |")
        w("|---|---|---|" + "---|" * len(cols))
        for r in rows:
            cells = []
            for col in cols:
                if col in r["measured"]:
                    cells.append(f"{r['predicted'][col]:.4g} / {r['measured'][col]:.4g}")
                else:
                    cells.append("")
            w(f"| `{r['source_id']}` | {r['engine_preset']} | {'yes' if r['scored'] else 'fit'} | " +
              " | ".join(cells) + " |")
        w("")
    # The "Roofline check" section is written by scripts/gen_roofline_doc.sh from other programs; keep it.
    try:
        previous = open(out_path).read()
    except FileNotFoundError:
        previous = ""
    roofline_at = previous.find("\n## Roofline check\n")
    roofline = previous[roofline_at + 1:] if roofline_at >= 0 else ""
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n" + roofline)


if __name__ == "__main__":
    main()
