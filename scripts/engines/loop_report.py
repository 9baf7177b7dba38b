#!/usr/bin/env python3
"""Table and bars of scripts/real-engine-loop.sh (issue 15's bars; docs/real-engines.md, "The loop").

Reads OUT/<sweep>/validate.json (servetwin validate --live) and OUT/<sweep>/live/{summary.json,metrics.csv}
for the sweeps closed-A, closed-B, poisson-A, preempt-B (those present). Scores every stage of every
sweep (the probe's own requests are never in a sweep). Bars (issue 15): median APE <= 10% on output
throughput and on mean ITL and TPOT, <= 20% on TTFT p50; the knee (first stage whose TTFT p99 is > 3x
the lowest load's) at the same stage, predicted and measured; the preemption run predicts preemption.
Prints markdown; --doc FILE replaces the block between the loop markers in FILE. Exit 1 if a bar is missed.
Python standard library only.
"""
import argparse
import csv
import json
import os
import statistics
import sys

SWEEPS = ["closed-A", "closed-B", "poisson-A", "preempt-B"]
BEGIN, END = "<!-- real-engine-loop:begin -->", "<!-- real-engine-loop:end -->"
BARS = {"throughput_output_tok_s": 10.0, "itl_mean_ms": 10.0, "tpot_mean_ms": 10.0, "ttft_p50_ms": 20.0}


def knee(values):
    """Index of the first stage whose TTFT p99 exceeds 3x the first stage's, or None."""
    for i, v in enumerate(values):
        if i > 0 and v > 3 * values[0]:
            return i
    return None


def server_stage_stats(live_dir, summary):
    """Per stage: mean running, mean waiting, max KV usage, preemptions from the scraped metrics.csv."""
    path = os.path.join(live_dir, "metrics.csv")
    if not os.path.exists(path):
        return None
    rows = list(csv.DictReader(open(path)))
    out = []
    for st in summary["scenarios"][0]["stages"]:
        w = st["window"]
        inside = [r for r in rows if w["start_ns"] <= int(r["t_ns"]) <= w["end_ns"]]
        num = lambda r, k: float(r[k]) if r.get(k) not in (None, "") else None  # noqa: E731
        vals = lambda k: [x for x in (num(r, k) for r in inside) if x is not None]  # noqa: E731
        pre = vals("preemptions_total")
        out.append({"running_mean": statistics.mean(vals("running")) if vals("running") else None,
                    "waiting_mean": statistics.mean(vals("waiting")) if vals("waiting") else None,
                    "kv_usage_max": max(vals("kv_cache_usage")) if vals("kv_cache_usage") else None,
                    "preemptions": (pre[-1] - pre[0]) if len(pre) > 1 else None, "scrapes": len(inside)})
    # Preemptions over the whole run (the window edges can miss a step's increment).
    all_pre = [float(r["preemptions_total"]) for r in rows if r.get("preemptions_total")]
    return out, (all_pre[-1] - all_pre[0]) if len(all_pre) > 1 else None


def fmt(v, nd=1):
    return "—" if v is None else f"{v:.{nd}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--probe")
    ap.add_argument("--fit")
    ap.add_argument("--doc")
    ap.add_argument("--title", default="full loop")
    a = ap.parse_args()
    lines, apes, failures = [], {k: [] for k in BARS}, []
    probe = json.load(open(a.probe)) if a.probe else {}
    fit = json.load(open(a.fit)) if a.fit else {}
    eng = probe.get("server_engine", {})
    lines.append(f"### Measured: {a.title}, {os.environ.get('LOOP_DATE', '')}".rstrip(", "))
    lines.append("")
    lines.append(f"Engine: {eng.get('name', '?')} {eng.get('version', '?')} (from {eng.get('source', '?')}); "
                 f"probe {probe.get('elapsed_s', 0):.0f} s, complete: {probe.get('complete')}; fit: TTFT median APE "
                 f"{100 * fit.get('ttft_s', {}).get('median_ape', 0):.1f}%, ITL median APE "
                 f"{100 * fit.get('itl_s', {}).get('median_ape', 0):.1f}%, admission limit {fit.get('admission_limit')}; "
                 f"catalog terms {json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in fit.get('catalog', {}).items()})}.")
    lines.append("")
    lines.append("| sweep | stage | out tok/s meas / pred (APE) | ITL mean ms meas / pred (APE) | TPOT mean ms meas / pred (APE) "
                 "| TTFT p50 ms meas / pred (APE) | TTFT p99 ms meas / pred | server running / sim batch (mean) "
                 "| server waiting mean / sim max | server KV max | preemptions server / sim |")
    lines.append("|---" * 10 + "|")
    knees, preempt = [], None
    for sw in SWEEPS:
        vpath = os.path.join(a.out, sw, "validate.json")
        if not os.path.exists(vpath):
            continue
        rep = json.load(open(vpath))
        live_dir = os.path.join(a.out, sw, "live")
        summary = json.load(open(os.path.join(live_dir, "summary.json")))
        stats = server_stage_stats(live_dir, summary)
        p99m, p99p, sim_pre_total = [], [], 0
        for i, row in enumerate(rep["rows"]):
            m, p, e = row["measured"], row["predicted"], row["ape"]
            for k in BARS:
                if e.get(k) is not None:
                    apes[k].append(abs(e[k]))
            p99m.append(m["ttft_p99_ms"])
            p99p.append(p["ttft_p99_ms"])
            es = row.get("engine", {})
            sim_pre = es.get("engine_specific", {}).get("preemptions", 0)
            sim_pre_total += sim_pre
            s = stats[0][i] if stats else {}
            cell = lambda k, nd=1: f"{fmt(m.get(k), nd)} / {fmt(p.get(k), nd)} ({fmt(abs(e[k]) if e.get(k) is not None else None)}%)"  # noqa: E731
            lines.append(f"| {sw} | {row['label']} | {cell('throughput_output_tok_s')} | {cell('itl_mean_ms')} | "
                         f"{cell('tpot_mean_ms')} | {cell('ttft_p50_ms', 0)} | {fmt(m['ttft_p99_ms'], 0)} / {fmt(p['ttft_p99_ms'], 0)} | "
                         f"{fmt(s.get('running_mean'))} / {fmt(es.get('batch_mean'))} | {fmt(s.get('waiting_mean'))} / "
                         f"{fmt(es.get('engine_specific', {}).get('max_waiting'), 0)} | {fmt(s.get('kv_usage_max'), 3)} | "
                         f"{fmt(s.get('preemptions'), 0)} / {sim_pre} |")
        if not sw.startswith("preempt") and len(p99m) > 2:
            knees.append((sw, knee(p99m), knee(p99p), [r["label"] for r in rep["rows"]]))
        if sw.startswith("preempt"):
            preempt = (stats[1] if stats else None, sim_pre_total)
    lines.append("")
    lines.append("| bar (issue 15) | measured | bar | met |")
    lines.append("|---|---|---|---|")
    for k, bar in BARS.items():
        if not apes[k]:
            continue
        med = statistics.median(apes[k])
        ok = med <= bar
        if not ok:
            failures.append(f"{k} median APE {med:.1f}% > {bar:.0f}%")
        lines.append(f"| {k} median APE over {len(apes[k])} stages (spread {min(apes[k]):.1f}-{max(apes[k]):.1f}%) | "
                     f"{med:.1f}% | <= {bar:.0f}% | {'yes' if ok else '**no**'} |")
    for sw, km, kp, labels in knees:
        name = lambda k: "none" if k is None else labels[k]  # noqa: E731
        ok = km == kp
        if not ok:
            failures.append(f"{sw} knee measured {name(km)} vs predicted {name(kp)}")
        lines.append(f"| {sw} knee (TTFT p99 > 3x lowest load) | measured {name(km)}, predicted {name(kp)} | same stage | "
                     f"{'yes' if ok else '**no**'} |")
    if preempt is not None:
        meas, pred = preempt
        ok = pred > 0
        if not ok:
            failures.append("the preemption run predicts no preemption")
        lines.append(f"| preemption run predicts preemption | server {fmt(meas, 0)}, predicted {pred} | predicted > 0 "
                     f"(server > 0) | {'yes' if ok else '**no**'} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.doc:
        doc = open(a.doc).read()
        block = f"{BEGIN}\n{text}{END}"
        if BEGIN in doc and END in doc:
            doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
        else:
            doc += "\n" + block + "\n"
        open(a.doc, "w").write(doc)
    if failures:
        print("real-engine-loop: bars missed: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
