#!/usr/bin/env python3
"""Table and bars of scripts/real-engine-loop.sh (issue 15's bars; docs/real-engines.md, "The loop").

Reads OUT/<sweep>/validate.json (servetwin validate --live: the rows, and the server's scraped view of each,
server_metrics) for the sweeps closed-A, closed-B, poisson-A, preempt-B (those present). Scores every stage of every
sweep (the probe's own requests are never in a sweep). Bars (issue 15): median APE <= 10% on output
throughput and on mean ITL and TPOT, <= 20% on TTFT p50; the knee (first stage whose TTFT percentile is > 3x
the lowest load's; p99 as the issue defines it where every stage has the >= 299 requests a p99 needs, else the
highest percentile the smallest stage supports: loop_stats.py) at the same stage, predicted and measured; the
preemption run predicts preemption. Server drift (loop_stats.py): sentinels measured around the sweeps give
each stage's server speed relative to the probe (its reference phase of the sentinels' shape, or for older
probes the 'after-probe' sentinel; OUT/drift.json, the table's last column); a closed-loop stage
whose speed left the probe's repeatability is scored against the drift-corrected prediction, and the bar lines
give the uncorrected median beside it (docs/real-engines.md, "Server drift").
Prints markdown; --doc FILE replaces the block between the loop markers in FILE. Exit 1 if a bar is missed.
Python standard library only.
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import loop_stats  # noqa: E402  (beside this script)

SWEEPS = ["closed-A", "closed-B", "poisson-A", "preempt-B"]
BEGIN, END = "<!-- real-engine-loop:begin -->", "<!-- real-engine-loop:end -->"
BARS = {"throughput_output_tok_s": 10.0, "itl_mean_ms": 10.0, "tpot_mean_ms": 10.0, "ttft_p50_ms": 20.0}


def fmt(v, nd=1):
    return "—" if v is None else f"{v:.{nd}f}"



def header_lines(title, probe, fit):
    eng = probe.get("server_engine", {})
    terms = {k: round(v, 4) if isinstance(v, float) else v for k, v in fit.get("catalog", {}).items()}
    return [f"### Measured: {title}, {os.environ.get('LOOP_DATE', '')}".rstrip(", "), "",
            f"Engine: {eng.get('name', '?')} {eng.get('version', '?')} (from {eng.get('source', '?')}); "
            f"probe {probe.get('elapsed_s', 0):.0f} s, complete: {probe.get('complete')}; fit: TTFT median APE "
            f"{100 * fit.get('ttft_s', {}).get('median_ape', 0):.1f}%, ITL median APE "
            f"{100 * fit.get('itl_s', {}).get('median_ape', 0):.1f}%, admission limit {fit.get('admission_limit')}; "
            f"catalog terms {json.dumps(terms)}.", "",
            "| sweep | stage | out tok/s meas / pred (APE) | ITL mean ms meas / pred (APE) | TPOT mean ms meas / pred (APE) "
            "| TTFT p50 ms meas / pred (APE) | TTFT p99 ms meas / pred | server running / sim batch (mean) "
            "| server waiting mean / sim max | server KV max | preemptions server / sim | server speed / probe |",
            "|---" * 11 + "|"]


def load_sweeps(out, validate_name="validate.json"):
    """[(sweep, scored rows, per-row server stats or None, run-level preemptions)] for the sweeps under OUT.

    A sweep run in passes (the same load more than once: real-engine-loop.sh --passes) is scored on
    validate's pooled rows, one per load over all its passes; otherwise on its stage rows. The server's
    own view (its scraped /metrics) is validate's too: each row's server_metrics, and the whole run's
    preemptions (live.server_metrics_run)."""
    found = []
    for sw in SWEEPS:
        vpath = os.path.join(out, sw, validate_name)
        if not os.path.exists(vpath):
            continue
        report = json.load(open(vpath))
        rows = report.get("pooled_rows") or report["rows"]
        run = report.get("live", {}).get("server_metrics_run")
        row_stats = [r.get("server_metrics", {}).get("measured") for r in rows] if run else None
        found.append((sw, rows, row_stats, run.get("preemptions") if run else None))
    return found


def speed_cell(d):
    if not d or d.get("speed") is None:
        return "—"
    tag = " **drift, corrected**" if d["corrected"] else (" **drift**" if d["flagged"] else "")
    return f"{d['speed']:.2f}{tag}"


def stage_line(sw, row, s, drift):
    m, p, e = row["measured"], row["predicted"], row["ape"]
    es = row.get("engine", {})
    s = s or {}
    cell = lambda k, nd=1: f"{fmt(m.get(k), nd)} / {fmt(p.get(k), nd)} ({fmt(abs(e[k]) if e.get(k) is not None else None)}%)"  # noqa: E731
    label = row["label"] + (f" ({row['passes']} passes)" if "passes" in row else "")
    return (f"| {sw} | {label} | {cell('throughput_output_tok_s')} | {cell('itl_mean_ms')} | "
            f"{cell('tpot_mean_ms')} | {cell('ttft_p50_ms', 0)} | {fmt(m['ttft_p99_ms'], 0)} / {fmt(p['ttft_p99_ms'], 0)} | "
            f"{fmt(s.get('running_mean'))} / {fmt(es.get('batch_mean'))} | {fmt(s.get('waiting_mean'))} / "
            f"{fmt(es.get('engine_specific', {}).get('max_waiting'), 0)} | {fmt(s.get('kv_usage_max'), 3)} | "
            f"{fmt(s.get('preemptions'), 0)} / {es.get('engine_specific', {}).get('preemptions', 0)} | {speed_cell(drift)} |")


def stage_apes(row, drift):
    """(uncorrected, scored) APE per bar metric of one stage; scored = drift-corrected where the stage drifted."""
    unc = {k: abs(row["ape"][k]) for k in BARS if row["ape"].get(k) is not None}
    if not drift or not drift.get("corrected"):
        return unc, dict(unc)
    pred = loop_stats.corrected_prediction(row["predicted"], drift["speed"])
    scored = {k: loop_stats.ape_percent(row["measured"].get(k), pred.get(k)) for k in unc}
    return unc, {k: v for k, v in scored.items() if v is not None}


def median_bar_lines(apes_unc, apes_scored, n_corrected, failures):
    lines = []
    for k, bar in BARS.items():
        if not apes_scored[k]:
            continue
        med, med_unc = statistics.median(apes_scored[k]), statistics.median(apes_unc[k])
        ok = med <= bar
        if not ok:
            failures.append(f"{k} median APE {med:.1f}% > {bar:.0f}%")
        how = (f"{med:.1f}% ({n_corrected} drift-corrected stages; uncorrected {med_unc:.1f}%, "
               f"{'meets' if med_unc <= bar else 'misses'} the bar)" if n_corrected else f"{med:.1f}%")
        lines.append(f"| {k} median APE over {len(apes_scored[k])} stages (spread {min(apes_scored[k]):.1f}-"
                     f"{max(apes_scored[k]):.1f}%) | {how} | <= {bar:.0f}% | {'yes' if ok else '**no**'} |")
    return lines


def knee_bar_line(sw, rows, failures):
    k = loop_stats.sweep_knee(rows)
    labels = [r["label"] for r in rows]
    name = lambda i: "none" if i is None else labels[i]  # noqa: E731
    p99 = f"p99 (issue's definition, needs >= 299 per stage): measured {name(k['p99_measured'])}, predicted {name(k['p99_predicted'])}"
    if k["quantile"] is None:
        failures.append(f"{sw} knee: fewer than 5 requests in a stage")
        return f"| {sw} knee | no percentile supported ({k['min_samples']} requests in the smallest stage); {p99} | same stage | **no** |"
    q = round(100 * k["quantile"])
    ok = k["measured"] == k["predicted"]
    if not ok:
        failures.append(f"{sw} knee (TTFT p{q}) measured {name(k['measured'])} vs predicted {name(k['predicted'])}")
    return (f"| {sw} knee (TTFT p{q} > 3x lowest load; smallest stage {k['min_samples']} requests) | measured "
            f"{name(k['measured'])}, predicted {name(k['predicted'])}; {p99} | same stage | {'yes' if ok else '**no**'} |")


def reference_note(rec):
    """Says so when the reference sentinel itself is off the probe by more than the threshold."""
    r, thr = rec.get("reference_speed_vs_probe"), rec.get("threshold")
    if r is None or thr is None or abs(r - 1.0) <= thr:
        return ""
    return "; **beyond the threshold: the reference itself was off the probe's speed, speeds below are relative to it**"


def reference_words(rec):
    """How the report names the reference the speeds are relative to."""
    pr = rec.get("probe_reference")
    if rec.get("reference") == loop_stats.REFERENCE_PROBE and pr:
        per = pr["pass_itl_ms"]
        return (f"the probe's reference phase (the sentinels' shape, one lone request per decode pass: {pr['requests']} "
                f"requests, median ITL {pr['itl_median_ms']:.2f} ms, per pass {min(per):.2f}-{max(per):.2f} ms)")
    return f"the '{rec['reference']}' sentinel (the probe ran no reference phase)"


def drift_lines(rec):
    if not rec["measured"]:
        return [f"Server drift: not measured ({rec.get('note', '')})."]
    thr = rec["threshold"]
    lines = [f"Server drift (sentinels: lone shape-A requests; speed = the reference's median inter-token time / the "
             f"sentinel's; reference: {reference_words(rec)}; threshold {fmt(None if thr is None else 100 * thr)}% = "
             f"{rec['threshold_source']}). The probe's own lone decode requests: median ITL "
             f"{fmt(rec.get('probe_lone_itl_ms'), 2)} ms"
             + (f" (reference speed / probe {fmt(rec.get('reference_speed_vs_probe'), 3)}{reference_note(rec)})."
                if rec.get("reference_speed_vs_probe") is not None else "."),
             "", "| sentinel | median ITL ms | median TTFT ms | requests | speed / probe |", "|---|---|---|---|---|"]
    for s in rec["sentinels"]:
        lines.append(f"| {s['name']} | {s['itl_median_ms']:.2f} | {s['ttft_median_ms']:.1f} | {s['requests']} | {s['speed']:.3f} |")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--probe")
    ap.add_argument("--fit")
    ap.add_argument("--doc")
    ap.add_argument("--title", default="full loop")
    ap.add_argument("--validate-name", default="validate.json",
                    help="the validate --live JSON scored in each sweep's directory (real-engine-loop.sh --bracket: "
                         "validate-bracketed.json)")
    a = ap.parse_args()
    probe = json.load(open(a.probe)) if a.probe else {}
    fit = json.load(open(a.fit)) if a.fit else {}
    sweeps = load_sweeps(a.out, a.validate_name)
    drift = loop_stats.drift_record(a.out, probe, {sw: rows for sw, rows, _, _ in sweeps})
    with open(os.path.join(a.out, "drift.json"), "w") as f:
        json.dump(drift, f, indent=1)
    lines, failures = header_lines(a.title, probe, fit), []
    apes_unc, apes_scored = {k: [] for k in BARS}, {k: [] for k in BARS}
    n_corrected, preempt = 0, None
    for sw, rows, stats, run_pre in sweeps:
        sw_drift = drift["stages"].get(sw, [None] * len(rows))
        for i, row in enumerate(rows):
            lines.append(stage_line(sw, row, stats[i] if stats else None, sw_drift[i]))
            unc, scored = stage_apes(row, sw_drift[i])
            n_corrected += bool(sw_drift[i] and sw_drift[i]["corrected"])
            for k in unc:
                apes_unc[k].append(unc[k])
            for k in scored:
                apes_scored[k].append(scored[k])
        if sw.startswith("preempt"):
            preempt = (run_pre,
                       sum(r.get("engine", {}).get("engine_specific", {}).get("preemptions", 0) for r in rows))
    lines += ["", *drift_lines(drift), "", "| bar (issue 15) | measured | bar | met |", "|---|---|---|---|"]
    lines += median_bar_lines(apes_unc, apes_scored, n_corrected, failures)
    lines += [knee_bar_line(sw, rows, failures) for sw, rows, _, _ in sweeps if not sw.startswith("preempt") and len(rows) > 2]
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
        replace_doc_block(a.doc, text)
    if failures:
        print("real-engine-loop: bars missed: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


def replace_doc_block(path, text):
    doc = open(path).read()
    block = f"{BEGIN}\n{text}{END}"
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
    else:
        doc += "\n" + block + "\n"
    open(path, "w").write(doc)


if __name__ == "__main__":
    sys.exit(main())
