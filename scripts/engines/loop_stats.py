"""Statistics of the real-engine loop's scoring (scripts/engines/loop_report.py; docs/real-engines.md).

Two questions a recorded loop must answer before its stages are compared with a prediction:

1. Which TTFT percentile can a stage support? The knee (issue 15: the first stage whose TTFT p99 exceeds
   3x the lowest load's) compares one percentile across stages. A sample quantile is only a statement about
   the server when the sample holds an order statistic that bounds it: the distribution-free one-sided
   upper confidence bound for the q-quantile at level 1 - alpha is an order statistic of the sample only
   when 1 - q^n >= 1 - alpha, i.e. n >= ln(alpha) / ln(q) (the binomial argument for order-statistic
   intervals, e.g. Hahn & Meeker, "Statistical Intervals", 1991, ch. 5; Conover, "Practical Nonparametric
   Statistics", 3rd ed., section 3.2). At alpha = 0.05: p99 needs 299 requests, p90 29, p50 5. Below that,
   a "p99" is the sample's maximum (one slow request decides it). The knee therefore uses the highest
   percentile both sides report (p99, p90, p50) that the sweep's smallest stage supports.

2. Did the server keep the speed the probe measured? Sentinels (lone requests of a fixed shape, run right
   after the probe and between sweeps) give the server's inter-token time at those moments; a stage's
   speed relative to the probe is interpolated in time between the sentinels around it. The reference is
   the probe itself where it ran the sentinels' shape (its "reference" phase, one lone request per
   interleaved pass, spread over the probe's decode part: calibrate probe --reference-dataset), so that
   "speed / probe" compares the same request shape with the speed the fit saw; a probe without that phase
   (recorded before it existed) falls back to the 'after-probe' sentinel. The threshold for calling that
   drift is the probe's own repeatability: the relative range of 3 consecutive rounds of one decode stage
   (the same load repeated a few seconds apart: back to back in a probe from before the interleaving, one
   pass apart since), median over windows and stages: how far an unchanged server's speed moves between
   repeats.

Python standard library only.
"""
import csv
import math
import os
import statistics

KNEE_FACTOR = 3.0  # issue 15: TTFT percentile > 3x the lowest load's
# Percentiles that validate --live reports for both the measurement and the prediction, highest first.
KNEE_QUANTILES = (0.99, 0.90, 0.50)
CONFIDENCE_ALPHA = 0.05


def min_samples_for_quantile(q, alpha=CONFIDENCE_ALPHA):
    """Smallest n whose sample holds a distribution-free (1 - alpha) upper confidence bound for the q-quantile."""
    return math.ceil(math.log(alpha) / math.log(q))


def supported_quantile(n):
    """Highest of KNEE_QUANTILES that n samples support, or None."""
    for q in KNEE_QUANTILES:
        if n >= min_samples_for_quantile(q):
            return q
    return None


def knee(values, factor=KNEE_FACTOR):
    """Index of the first stage whose value exceeds factor x the first stage's, or None."""
    for i, v in enumerate(values):
        if i > 0 and v is not None and values[0] is not None and v > factor * values[0]:
            return i
    return None


def quantile_key(q):
    return f"ttft_p{round(100 * q)}_ms"


def sweep_knee(rows):
    """The knee of one sweep's validate --live rows, measured and predicted, at the supported percentile.

    Returns a dict: quantile (None when even p50 is unsupported), min_samples (smallest stage's n, the
    lesser of measured and predicted ok requests), measured/predicted (stage index or None), and the p99
    knees as the issue defines them (p99_measured/p99_predicted), reported beside the supported one.
    """
    counts = [min(r["requests"].get("measured_ok", 0), r["requests"].get("predicted_ok", 0)) for r in rows]
    n_min = min(counts) if counts else 0
    q = supported_quantile(n_min)
    out = {"quantile": q, "min_samples": n_min, "needed": {quantile_key(k): min_samples_for_quantile(k)
                                                           for k in KNEE_QUANTILES},
           "p99_measured": knee([r["measured"].get("ttft_p99_ms") for r in rows]),
           "p99_predicted": knee([r["predicted"].get("ttft_p99_ms") for r in rows]),
           "measured": None, "predicted": None}
    if q is not None:
        out["measured"] = knee([r["measured"].get(quantile_key(q)) for r in rows])
        out["predicted"] = knee([r["predicted"].get(quantile_key(q)) for r in rows])
    return out


def itl_ms(arrival_first_finish_out):
    """Mean inter-token time of one request (ms), from first token to finish; None below 2 tokens."""
    first_ns, finish_ns, out_tokens = arrival_first_finish_out
    return (finish_ns - first_ns) / (out_tokens - 1) / 1e6 if out_tokens > 1 else None


def _ok_requests(ph):
    return sorted((r for r in ph.get("requests", []) if not r.get("warmup") and r.get("status") == "ok"),
                  key=lambda r: r["arrival_ns"])


def _itls(reqs):
    """Inter-token times (ms) of probe.json requests, those with at least two tokens."""
    return [x for x in (itl_ms((r["first_token_ns"], r["finish_ns"], r["output_tokens"])) for r in reqs) if x is not None]


def _median_itl(reqs):
    itls = _itls(reqs)
    return statistics.median(itls) if itls else None


def round_medians(probe):
    """{phase-cN: [median ITL ms of each round, in probe order]} for the probe's decode stages.

    A round is one repeat of the stage's load (concurrency c: c requests started together). A probe from
    before the interleaving has one phases entry per stage holding its rounds (split in arrival order); an
    interleaved probe has one entry per round (with "pass"); both are read the same way.
    """
    out = {}
    for ph in probe.get("phases", []):
        if not ph.get("phase", "").startswith("decode") or ph.get("concurrency", 0) < 1:
            continue
        reqs, c = _ok_requests(ph), ph["concurrency"]
        # Probes merged by calibrate fit (probe-merged.json: "probe" = the file's index): rounds of one
        # probe only, so that no window spans the sweeps run between two probes.
        key = f"{ph['phase']}-c{c}" + (f"-probe{ph['probe']}" if "probe" in ph else "")
        for i in range(0, len(reqs), c):
            m = _median_itl(reqs[i:i + c])
            if m is not None:
                out.setdefault(key, []).append(m)
    return out


REPEAT_WINDOW = 3  # rounds per repeatability window: the 3 back-to-back rounds of the original probe design


def probe_repeatability(probe):
    """Median over the probe's decode stages of the relative range of REPEAT_WINDOW consecutive rounds.

    Per stage: the median over its windows of 3 consecutive rounds (fewer rounds: one window of all) of
    (max - min) / median of the rounds' median inter-token times. Returns {"value": fraction or None,
    "stages": {phase-cN: range}}.
    """
    ranges = {}
    for key, medians in round_medians(probe).items():
        if len(medians) < 2:
            continue
        w = min(REPEAT_WINDOW, len(medians))
        windows = [medians[i:i + w] for i in range(len(medians) - w + 1)]
        ranges[key] = statistics.median((max(x) - min(x)) / statistics.median(x) for x in windows)
    return {"value": statistics.median(ranges.values()) if ranges else None, "stages": ranges}


def probe_lone_itl_ms(probe):
    """Median inter-token time of the probe's lone decode requests (decode at 1 user), or None."""
    return _median_itl([r for ph in probe.get("phases", []) if ph.get("phase") == "decode" and ph.get("concurrency") == 1
                        for r in _ok_requests(ph)])


def probe_reference(probe):
    """The probe's reference phase (the sentinels' shape, one lone request per pass), or None.

    {"itl_median_ms", "ttft_median_ms", "requests", "pass_itl_ms": [per pass, in order]}.
    """
    reqs = [r for ph in probe.get("phases", []) if ph.get("phase") == "reference" for r in _ok_requests(ph)]
    per_pass = _itls(reqs)
    if not per_pass:
        return None
    return {"itl_median_ms": statistics.median(per_pass),
            "ttft_median_ms": statistics.median((r["first_token_ns"] - r["arrival_ns"]) / 1e6 for r in reqs),
            "requests": len(per_pass), "pass_itl_ms": per_pass}


def sentinel_speed(live_dir):
    """Median inter-token time and TTFT (ms) of a sentinel run's ok requests (servetwin load's requests.csv)."""
    itls, ttfts = [], []
    with open(os.path.join(live_dir, "requests.csv")) as f:
        for r in csv.DictReader(f):
            if r["status"] != "ok":
                continue
            v = itl_ms((int(r["first_token_ns"]), int(r["finish_ns"]), int(r["output_tokens"])))
            if v is not None:
                itls.append(v)
            ttfts.append((int(r["first_token_ns"]) - int(r["arrival_ns"])) / 1e6)
    if not itls:
        return None
    return {"itl_median_ms": statistics.median(itls), "ttft_median_ms": statistics.median(ttfts), "requests": len(itls)}


def read_timeline(path):
    """OUT/timeline.tsv of scripts/real-engine-loop.sh: kind, name, start and end (Unix ns) per line."""
    events = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4:
                events.append({"kind": parts[0], "name": parts[1], "start_ns": int(parts[2]), "end_ns": int(parts[3])})
    return events


def interpolate_speed(t_ns, sentinels):
    """Relative speed at t_ns, linear in time between the sentinels around it (the nearest one outside them)."""
    pts = sorted((s["t_ns"], s["speed"]) for s in sentinels)
    if not pts:
        return None
    if t_ns <= pts[0][0]:
        return pts[0][1]
    for (t0, s0), (t1, s1) in zip(pts, pts[1:]):
        if t0 <= t_ns <= t1:
            return s0 if t1 == t0 else s0 + (s1 - s0) * (t_ns - t0) / (t1 - t0)
    return pts[-1][1]


REFERENCE_SENTINEL = "after-probe"  # the fallback reference: scripts/real-engine-loop.sh runs it right after the probe
REFERENCE_PROBE = "probe"  # the probe's own reference phase (the sentinels' shape, spread over its passes)
THRESHOLD_SOURCE = ("median over the probe's decode stages of the relative range of the median inter-token "
                    "times of 3 consecutive rounds (the same load repeated a few seconds apart)")
# Quantities that scale with the server's speed when a closed loop runs on a uniformly slower server (every
# step and every front-end operation longer by the same factor): times divide, rates multiply.
SPEED_DIVIDES = ("itl_mean_ms", "tpot_mean_ms", "ttft_p50_ms")
SPEED_MULTIPLIES = ("throughput_output_tok_s",)


def corrected_prediction(predicted, speed):
    """The prediction on a server running at `speed` x the probe's (a closed loop's time dilation)."""
    out = dict(predicted)
    for k in SPEED_DIVIDES:
        if predicted.get(k) is not None:
            out[k] = predicted[k] / speed
    for k in SPEED_MULTIPLIES:
        if predicted.get(k) is not None:
            out[k] = predicted[k] * speed
    return out


def ape_percent(measured, predicted):
    if measured in (None, 0) or predicted is None:
        return None
    return abs(predicted - measured) / abs(measured) * 100.0


def _sentinels(out_dir, events):
    found = []
    for e in events:
        if e["kind"] != "sentinel":
            continue
        live = os.path.join(out_dir, "sentinels", e["name"])
        sp = sentinel_speed(live) if os.path.exists(os.path.join(live, "requests.csv")) else None
        if sp:
            found.append({"name": e["name"], "t_ns": (e["start_ns"] + e["end_ns"]) // 2, **sp})
    return found


def _stage_drift(row, sweep_start_ns, sentinels, threshold):
    # A load run in passes (validate's pooled rows list one window per pass): the mean of its passes' speeds.
    windows = row["window_ns"] if isinstance(row["window_ns"], list) else [row["window_ns"]]
    speeds = [interpolate_speed(sweep_start_ns + (w["measured"][0] + w["measured"][1]) // 2, sentinels) for w in windows]
    speed = None if None in speeds else statistics.mean(speeds)
    flagged = threshold is not None and speed is not None and abs(speed - 1.0) > threshold
    closed = row.get("load_type", "").startswith("closed")
    return {"label": row["label"], "speed": speed, "flagged": flagged,
            # Only a closed loop dilates with the server; an open loop's arrival rate does not.
            "corrected": flagged and closed}


def drift_record(out_dir, probe, rows_by_sweep):
    """Server speed per sentinel and per stage relative to the probe; the record written to OUT/drift.json."""
    rep = probe_repeatability(probe)
    probe_ref = probe_reference(probe)
    rec = {"threshold": rep["value"], "threshold_source": THRESHOLD_SOURCE, "probe_round_ranges": rep["stages"],
           "reference": REFERENCE_PROBE if probe_ref else REFERENCE_SENTINEL, "probe_reference": probe_ref,
           "probe_lone_itl_ms": probe_lone_itl_ms(probe), "measured": False, "sentinels": [], "stages": {}}
    tl_path = os.path.join(out_dir, "timeline.tsv")
    if not os.path.exists(tl_path):
        rec["note"] = "no sentinels recorded (timeline.tsv missing: a run from before the drift sentinels)"
        return rec
    events = read_timeline(tl_path)
    sentinels = _sentinels(out_dir, events)
    if probe_ref:
        ref_itl = probe_ref["itl_median_ms"]
    else:
        ref = next((s for s in sentinels if s["name"] == REFERENCE_SENTINEL), None)
        if ref is None:
            rec["note"] = f"no usable '{REFERENCE_SENTINEL}' sentinel and no reference phase in the probe"
            return rec
        ref_itl = ref["itl_median_ms"]
        # The reference's own speed against the probe's lone decode requests (other prompt lengths: 128 vs
        # ~35 tokens, so only a large departure means the reference itself caught the server off its probed speed).
        if rec["probe_lone_itl_ms"]:
            rec["reference_speed_vs_probe"] = rec["probe_lone_itl_ms"] / ref_itl
    if not sentinels:
        rec["note"] = "no usable sentinel"
        return rec
    for s in sentinels:
        s["speed"] = ref_itl / s["itl_median_ms"]
    rec.update(measured=True, sentinels=sentinels)
    starts = {e["name"]: e["start_ns"] for e in events if e["kind"] == "sweep"}
    for sweep, rows in rows_by_sweep.items():
        if sweep in starts:
            rec["stages"][sweep] = [_stage_drift(r, starts[sweep], sentinels, rec["threshold"]) for r in rows]
    return rec
