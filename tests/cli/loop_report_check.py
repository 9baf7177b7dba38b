"""Unit and end-to-end checks of scripts/engines/loop_stats.py and loop_report.py on synthetic runs.

Usage: loop_report_check.py REPO. Standard library only; no server, no servetwin binary.
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

REPO = sys.argv.pop(1)
sys.path.insert(0, os.path.join(REPO, "scripts", "engines"))
import loop_report  # noqa: E402
import loop_stats  # noqa: E402

MS = 1_000_000


def dump_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)


def load_json(path):
    with open(path) as f:
        return json.load(f)


def row(label, n, meas, pred, load_type="closed_concurrency", window=(0, 25_000 * MS)):
    """A validate --live row; meas/pred: dicts of metrics; APE as validate writes it (signed %)."""
    ape = {k: (pred[k] - meas[k]) / meas[k] * 100 for k in meas if k in pred}
    return {"label": label, "load_type": load_type, "requests": {"measured_ok": n, "predicted_ok": n + 3},
            "measured": meas, "predicted": pred, "ape": ape, "window_ns": {"measured": list(window)},
            "engine": {"engine_specific": {"preemptions": 0}}}


def ttft(p50, p90, p99):
    return {"ttft_p50_ms": p50, "ttft_p90_ms": p90, "ttft_p99_ms": p99}


class KneeRule(unittest.TestCase):
    def test_min_samples_are_the_binomial_bound(self):
        # n >= ln(0.05)/ln(q): 298.1 -> 299, 28.4 -> 29, 4.3 -> 5
        self.assertEqual(loop_stats.min_samples_for_quantile(0.99), 299)
        self.assertEqual(loop_stats.min_samples_for_quantile(0.90), 29)
        self.assertEqual(loop_stats.min_samples_for_quantile(0.50), 5)
        self.assertEqual(loop_stats.supported_quantile(299), 0.99)
        self.assertEqual(loop_stats.supported_quantile(298), 0.90)
        self.assertEqual(loop_stats.supported_quantile(29), 0.90)
        self.assertEqual(loop_stats.supported_quantile(28), 0.50)
        self.assertIsNone(loop_stats.supported_quantile(4))

    def test_one_slow_request_in_a_small_stage_does_not_set_the_knee(self):
        # The s12 tgis case: 58 requests per stage, one slow first token at 2 users (p99 117 vs p50 43).
        meas = [ttft(36, 40, 38), ttft(43, 55, 117), ttft(80, 95, 100), ttft(160, 175, 180)]
        pred = [ttft(35, 40, 45), ttft(36, 50, 59), ttft(75, 90, 95), ttft(150, 165, 167)]
        rows = [row(f"concurrency={c}", 58, m, p) for c, m, p in zip((1, 2, 4, 8), meas, pred)]
        k = loop_stats.sweep_knee(rows)
        self.assertEqual(k["quantile"], 0.90)
        self.assertEqual(k["min_samples"], 58)
        self.assertEqual((k["p99_measured"], k["p99_predicted"]), (1, 3))  # the p99: the outlier decides
        self.assertEqual((k["measured"], k["predicted"]), (3, 3))  # p90: 175 > 3 x 40, 165 > 3 x 40

    def test_p99_is_used_when_every_stage_supports_it(self):
        meas = [ttft(36, 40, 38), ttft(43, 55, 117), ttft(160, 175, 180)]
        rows = [row(f"c={i}", 300, m, m) for i, m in enumerate(meas)]
        k = loop_stats.sweep_knee(rows)
        self.assertEqual(k["quantile"], 0.99)
        self.assertEqual((k["measured"], k["predicted"]), (1, 1))

    def test_report_line_names_the_percentile_and_the_p99_knee(self):
        meas = [ttft(36, 40, 38), ttft(43, 55, 117), ttft(80, 95, 100), ttft(160, 175, 180)]
        rows = [row(f"concurrency={c}", 58, m, m) for c, m in zip((1, 2, 4, 8), meas)]
        failures = []
        line = loop_report.knee_bar_line("closed-A", rows, failures)
        self.assertIn("closed-A knee (TTFT p90 > 3x lowest load; smallest stage 58 requests) | measured concurrency=8, "
                      "predicted concurrency=8; p99 (issue's definition, needs >= 299 per stage): measured "
                      "concurrency=2, predicted concurrency=2", line)
        self.assertEqual(failures, [])
        rows[3]["predicted"] = ttft(100, 110, 400)  # p90 110 < 120: no predicted knee at p90
        loop_report.knee_bar_line("closed-A", rows, failures)
        self.assertEqual(failures, ["closed-A knee (TTFT p90) measured concurrency=8 vs predicted none"])

    def test_the_smallest_stage_decides_the_percentile(self):
        rows = [row("a", 400, ttft(1, 1, 1), ttft(1, 1, 1)), row("b", 20, ttft(1, 1, 1), ttft(1, 1, 1))]
        self.assertEqual(loop_stats.sweep_knee(rows)["quantile"], 0.50)


def probe_with_rounds(rounds_ms_by_phase):
    """A probe.json whose decode phases have rounds of c requests with the given inter-token times."""
    phases, t = [], 0
    for (phase, c), rounds in rounds_ms_by_phase.items():
        reqs = []
        for itl in rounds:
            for _ in range(c):
                reqs.append({"arrival_ns": t, "first_token_ns": t + 30 * MS, "finish_ns": t + 30 * MS + int(63 * itl * MS),
                             "output_tokens": 64, "status": "ok", "warmup": False})
            t += 1000 * MS
        phases.append({"phase": phase, "concurrency": c, "requests": reqs})
    phases.append({"phase": "prefill", "concurrency": 1, "requests": []})
    return {"phases": phases}


class Repeatability(unittest.TestCase):
    def test_median_of_round_ranges(self):
        probe = probe_with_rounds({("decode", 1): [10.0, 10.5, 9.5],      # range 1.0 / 10 = 10%
                                   ("decode", 2): [10.0, 10.2, 10.1],     # 2%
                                   ("decode-context", 1): [8.0, 8.4, 8.0]})  # 5%
        rep = loop_stats.probe_repeatability(probe)
        self.assertAlmostEqual(rep["value"], 0.05, places=3)
        self.assertEqual(sorted(rep["stages"]), ["decode-c1", "decode-c2", "decode-context-c1"])

    def test_interleaved_rounds_are_one_entry_each_and_windowed(self):
        # An interleaved probe: one entry per round ("pass"), a stage's rounds spread over the probe. The
        # range is taken over 3 consecutive rounds and the median over windows, so a slow wander over
        # the whole probe (10 -> 12 ms in 5 steps) is not read as round-to-round noise.
        phases = []
        for p, itl in enumerate([10.0, 10.5, 11.0, 11.5, 12.0]):
            phases.append({"phase": "decode", "concurrency": 1, "pass": p, "requests": [
                {"arrival_ns": 0, "first_token_ns": 30 * MS, "finish_ns": 30 * MS + int(63 * itl * MS),
                 "output_tokens": 64, "status": "ok", "warmup": False}]})
        self.assertEqual([round(x, 3) for x in loop_stats.round_medians({"phases": phases})["decode-c1"]],
                         [10.0, 10.5, 11.0, 11.5, 12.0])
        rep = loop_stats.probe_repeatability({"phases": phases})
        # windows 10-11 (1/10.5), 10.5-11.5 (1/11), 11-12 (1/11.5): median 1/11
        self.assertAlmostEqual(rep["value"], 1 / 11, places=4)

    def test_merged_probes_window_each_probe_alone(self):
        # calibrate fit --in a --in b writes probe-merged.json, each entry tagged with its probe. Two probes
        # at 10 and 14 ms (the server changed speed during the sweeps between them): windows of rounds
        # never span the two, so the range is each probe's own (0), not the 40% step between them.
        phases = []
        for probe, itl in ((0, 10.0), (1, 14.0)):
            for p in range(3):
                phases.append({"phase": "decode", "concurrency": 1, "pass": p, "probe": probe, "requests": [
                    {"arrival_ns": 0, "first_token_ns": 30 * MS, "finish_ns": 30 * MS + int(63 * itl * MS),
                     "output_tokens": 64, "status": "ok", "warmup": False}]})
        rep = loop_stats.probe_repeatability({"phases": phases})
        self.assertEqual(sorted(rep["stages"]), ["decode-c1-probe0", "decode-c1-probe1"])
        self.assertAlmostEqual(rep["value"], 0.0, places=6)

    def test_probe_reference_phase(self):
        reqs = lambda itl: [{"arrival_ns": 0, "first_token_ns": 35 * MS, "finish_ns": 35 * MS + int(63 * itl * MS),  # noqa: E731
                             "output_tokens": 64, "status": "ok", "warmup": False}]
        probe = {"phases": [{"phase": "reference", "concurrency": 1, "pass": p, "requests": reqs(itl)}
                            for p, itl in enumerate([6.0, 5.0, 7.0, 5.5, 6.5])]}
        ref = loop_stats.probe_reference(probe)
        self.assertAlmostEqual(ref["itl_median_ms"], 6.0, places=3)
        self.assertEqual(ref["requests"], 5)
        self.assertAlmostEqual(ref["ttft_median_ms"], 35.0)
        self.assertIsNone(loop_stats.probe_reference({"phases": []}))

    def test_interpolation(self):
        s = [{"t_ns": 0, "speed": 1.0}, {"t_ns": 100, "speed": 0.8}]
        self.assertAlmostEqual(loop_stats.interpolate_speed(50, s), 0.9)
        self.assertEqual(loop_stats.interpolate_speed(-5, s), 1.0)
        self.assertEqual(loop_stats.interpolate_speed(500, s), 0.8)
        self.assertIsNone(loop_stats.interpolate_speed(1, []))


def write_requests_csv(path, itl_ms, n=6):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "requests.csv"), "w") as f:
        f.write("scenario,request_id,stage,user_id,input_tokens,output_tokens,cached_tokens,arrival_ns,ack_ns,"
                "first_token_ns,finish_ns,status,stop_reason,preemptions,error\n")
        for i in range(n):
            a = i * 1000 * MS
            f.write(f"0,{i},0,0,128,64,0,{a},{a},{a + 40 * MS},{a + 40 * MS + int(63 * itl_ms * MS)},ok,MAX_TOKENS,0,\n")


def make_run(root, with_sentinels, sentinel_itl_after=12.5, reference_itl=10.0, probe_reference_itl=None):
    """A recorded short loop: closed-A (2 stages) and poisson-A (1 stage), the server 20% slower after the probe."""
    m = lambda tput, itl, p50: {"throughput_output_tok_s": tput, "itl_mean_ms": itl, "tpot_mean_ms": itl,  # noqa: E731
                                **ttft(p50, p50 * 1.2, p50 * 1.3)}
    sweeps = {"closed-A": [row("concurrency=1", 40, m(80.0, 12.5, 50.0), m(100.0, 10.0, 40.0), window=(5_000 * MS, 30_000 * MS)),
                           row("concurrency=2", 80, m(160.0, 12.5, 50.0), m(200.0, 10.0, 40.0), window=(35_000 * MS, 60_000 * MS))],
              "poisson-A": [row("rate=2", 60, m(128.0, 12.5, 50.0), m(128.0, 10.0, 40.0), load_type="poisson_rate")]}
    for sw, rows in sweeps.items():
        os.makedirs(os.path.join(root, sw, "live"))
        dump_json(os.path.join(root, sw, "validate.json"), {"rows": rows})
        dump_json(os.path.join(root, sw, "live", "summary.json"), {"scenarios": [{"stages": []}]})
    probe = probe_with_rounds({("decode", 1): [10.0, 10.5, 9.5], ("decode", 2): [10.0, 10.2, 10.1],
                               ("decode-context", 1): [8.0, 8.4, 8.0]})
    if probe_reference_itl is not None:  # the probe's reference phase: 3 passes of one lone request
        for p in range(3):
            probe["phases"].append({"phase": "reference", "concurrency": 1, "pass": p, "requests": [
                {"arrival_ns": 0, "first_token_ns": 40 * MS, "finish_ns": 40 * MS + int(63 * probe_reference_itl * MS),
                 "output_tokens": 64, "status": "ok", "warmup": False}]})
    dump_json(os.path.join(root, "probe.json"), probe)
    if with_sentinels:
        write_requests_csv(os.path.join(root, "sentinels", "after-probe"), reference_itl)
        write_requests_csv(os.path.join(root, "sentinels", "after-closed-A"), sentinel_itl_after)
        write_requests_csv(os.path.join(root, "sentinels", "after-poisson-A"), sentinel_itl_after)
        s = 10**18
        with open(os.path.join(root, "timeline.tsv"), "w") as f:
            f.write(f"sentinel after-probe {s} {s + 5 * 10**9}\n")
            f.write(f"sweep closed-A {s + 10 * 10**9} {s + 70 * 10**9}\n")
            f.write(f"sentinel after-closed-A {s + 70 * 10**9} {s + 75 * 10**9}\n")
            f.write(f"sweep poisson-A {s + 75 * 10**9} {s + 105 * 10**9}\n")
            f.write(f"sentinel after-poisson-A {s + 105 * 10**9} {s + 110 * 10**9}\n")


def report(root):
    return subprocess.run([sys.executable, os.path.join(REPO, "scripts", "engines", "loop_report.py"), "--out", root,
                           "--probe", os.path.join(root, "probe.json")], capture_output=True, text=True)


class DriftRecord(unittest.TestCase):
    def run_report(self, **run_options):
        """Writes a synthetic run into a temporary OUT, runs loop_report.py: (completed process, drift.json)."""
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        make_run(tmp.name, **run_options)
        res = report(tmp.name)
        return res, load_json(os.path.join(tmp.name, "drift.json"))

    def test_drifted_stages_are_flagged_recorded_and_scored_both_ways(self):
        res, rec = self.run_report(with_sentinels=True)
        self.assertTrue(rec["measured"])
        self.assertAlmostEqual(rec["threshold"], 0.05, places=3)
        self.assertAlmostEqual(rec["probe_lone_itl_ms"], 10.0, places=3)  # decode c=1 rounds 10, 10.5, 9.5
        self.assertAlmostEqual(rec["reference_speed_vs_probe"], 1.0, places=3)
        self.assertIn("(reference speed / probe 1.000).", res.stdout)
        self.assertEqual([s["name"] for s in rec["sentinels"]], ["after-probe", "after-closed-A", "after-poisson-A"])
        self.assertAlmostEqual(rec["sentinels"][1]["speed"], 0.8, places=3)
        a = rec["stages"]["closed-A"]
        # Stage 1's middle (17.5 s into the sweep that started 10 s after the reference) is interpolated.
        t_mid = 10 + 17.5
        self.assertAlmostEqual(a[0]["speed"], 1.0 - 0.2 * (t_mid - 2.5) / (72.5 - 2.5), places=3)
        self.assertTrue(all(s["flagged"] and s["corrected"] for s in a))
        p = rec["stages"]["poisson-A"][0]
        self.assertTrue(p["flagged"])
        self.assertFalse(p["corrected"])  # an open loop does not dilate: scored uncorrected
        self.assertIn("drift-corrected stages; uncorrected", res.stdout)
        self.assertIn("**drift, corrected**", res.stdout)
        self.assertIn("| after-closed-A | 12.50 |", res.stdout)
        # The poisson stage keeps its 20% ITL error (uncorrected): the ITL bar's median over 3 stages
        # of which two are corrected to a few % - the row is never dropped.
        # Speeds 0.929 and 0.843 at the two closed-A stages: ITL APE 13.8% and 5.1% after correction.
        self.assertIn("itl_mean_ms median APE over 3 stages (spread 5.1-20.0%) | 13.8% (2 drift-corrected stages; "
                      "uncorrected 20.0%, misses the bar)", res.stdout)

    def test_a_reference_off_the_probe_is_called_out(self):
        res, rec = self.run_report(with_sentinels=True, reference_itl=12.0)  # the probe's lone decode: 10 ms
        self.assertAlmostEqual(rec["reference_speed_vs_probe"], 10.0 / 12.0, places=3)
        self.assertIn("beyond the threshold: the reference itself was off the probe's speed", res.stdout)

    def test_speeds_are_relative_to_the_probe_reference_phase(self):
        # The s13 tgis case: the server ran lone requests at 10 ms during the probe and 12.5 ms from the
        # after-probe sentinel on. Against the after-probe sentinel nothing moved (speed 1.0 throughout);
        # against the probe's own reference phase every sentinel is at 0.8, so the closed-loop stages are
        # flagged and scored against the drift-corrected prediction.
        res, rec = self.run_report(with_sentinels=True, reference_itl=12.5, sentinel_itl_after=12.5, probe_reference_itl=10.0)
        self.assertEqual(rec["reference"], "probe")
        self.assertAlmostEqual(rec["probe_reference"]["itl_median_ms"], 10.0, places=3)
        self.assertNotIn("reference_speed_vs_probe", rec)
        self.assertEqual([round(s["speed"], 3) for s in rec["sentinels"]], [0.8, 0.8, 0.8])
        self.assertTrue(all(s["flagged"] and s["corrected"] for s in rec["stages"]["closed-A"]))
        self.assertFalse(rec["stages"]["poisson-A"][0]["corrected"])
        self.assertIn("reference: the probe's reference phase (the sentinels' shape, one lone request per decode pass: "
                      "3 requests, median ITL 10.00 ms, per pass 10.00-10.00 ms)", res.stdout)
        # closed-A: predicted ITL 10 / 0.8 = 12.5 = measured (0%); poisson-A uncorrected 20%.
        self.assertIn("itl_mean_ms median APE over 3 stages (spread 0.0-20.0%) | 0.0% (2 drift-corrected stages; "
                      "uncorrected 20.0%, misses the bar)", res.stdout)
        # The same run against the after-probe sentinel (no reference phase): nothing flagged.
        res, rec = self.run_report(with_sentinels=True, reference_itl=12.5, sentinel_itl_after=12.5)
        self.assertEqual(rec["reference"], "after-probe")
        self.assertFalse(any(s["flagged"] for st in rec["stages"].values() for s in st))

    def test_speed_inside_the_probe_spread_is_not_corrected(self):
        res, rec = self.run_report(with_sentinels=True, sentinel_itl_after=10.3)  # 3% slower < 5% threshold
        self.assertFalse(any(s["flagged"] for st in rec["stages"].values() for s in st))
        self.assertNotIn("drift-corrected", res.stdout)
        self.assertIn("throughput_output_tok_s median APE over 3 stages (spread 0.0-25.0%) | 25.0% |", res.stdout)
        self.assertEqual(res.returncode, 1)

    def test_a_run_without_sentinels_is_scored_as_before(self):
        res, rec = self.run_report(with_sentinels=False)
        self.assertFalse(rec["measured"])
        self.assertIn("Server drift: not measured", res.stdout)
        self.assertIn("itl_mean_ms median APE over 3 stages (spread 20.0-20.0%) | 20.0% |", res.stdout)
        self.assertEqual(res.returncode, 1)

    def test_correction_is_time_dilation(self):
        c = loop_stats.corrected_prediction({"itl_mean_ms": 10.0, "throughput_output_tok_s": 100.0, "ttft_p99_ms": 7.0}, 0.8)
        self.assertAlmostEqual(c["itl_mean_ms"], 12.5)
        self.assertAlmostEqual(c["throughput_output_tok_s"], 80.0)
        self.assertEqual(c["ttft_p99_ms"], 7.0)  # not a bar metric: untouched


class PooledSweep(unittest.TestCase):
    """A sweep run in passes is scored on validate's pooled rows; a pooled load's speed is its passes' mean."""

    def test_pooled_rows_are_scored_and_their_speed_averages_the_passes(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        root = tmp.name
        make_run(root, with_sentinels=True)  # the server 20% slower after closed-A (sentinel speed 0.8)
        m = lambda tput, itl: {"throughput_output_tok_s": tput, "itl_mean_ms": itl, "tpot_mean_ms": itl,  # noqa: E731
                               **ttft(50.0, 60.0, 65.0)}
        # Passes of 1 and 2 users at 5-15, 15-25 (pass 1) and 35-45, 45-55 s (pass 2) into the sweep. The
        # per-pass rows disagree by +-20% (a speed that moved between passes); the pooled rows do not.
        w = lambda a, b: {"measured": [a * 1000 * MS, b * 1000 * MS], "predicted": [a * 1000 * MS, b * 1000 * MS]}  # noqa: E731
        passes = [row("concurrency=1", 20, m(80.0, 12.5), m(100.0, 10.0)), row("concurrency=2", 40, m(160.0, 12.5), m(200.0, 10.0)),
                  row("concurrency=1", 20, m(120.0, 8.3), m(100.0, 10.0)), row("concurrency=2", 40, m(240.0, 8.3), m(200.0, 10.0))]
        pooled = []
        for label, stages, wins, n in (("concurrency=1", [0, 2], [w(5, 15), w(35, 45)], 40),
                                       ("concurrency=2", [1, 3], [w(15, 25), w(45, 55)], 80)):
            r = row(label, n, m(100.0, 10.4), m(100.0, 10.0))
            r.update(stages=stages, passes=2, window_ns=wins)
            pooled.append(r)
        dump_json(os.path.join(root, "closed-A", "validate.json"), {"rows": passes, "pooled_rows": pooled})
        res = report(root)
        rec = load_json(os.path.join(root, "drift.json"))
        a = rec["stages"]["closed-A"]
        self.assertEqual([s["label"] for s in a], ["concurrency=1", "concurrency=2"])
        # Sentinels: speed 1.0 at 2.5 s (after-probe), 0.8 at 72.5 s (after-closed-A); the sweep starts at 10 s.
        at = lambda t: 1.0 - 0.2 * (10 + t - 2.5) / 70.0  # noqa: E731
        self.assertAlmostEqual(a[0]["speed"], (at(10) + at(40)) / 2, places=6)
        self.assertAlmostEqual(a[1]["speed"], (at(20) + at(50)) / 2, places=6)
        self.assertIn("| closed-A | concurrency=1 (2 passes) | 100.0 / 100.0 (0.0%)", res.stdout)
        self.assertNotIn("| closed-A | concurrency=1 |", res.stdout)  # the per-pass rows are not scored
        # 2 pooled closed-A loads + 1 poisson-A stage.
        self.assertIn("throughput_output_tok_s median APE over 3 stages", res.stdout)


class ServerView(unittest.TestCase):
    """The server's own view in the table is validate's (rows' server_metrics, live.server_metrics_run)."""

    def test_server_columns_and_preemption_bar_come_from_validate(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        root = tmp.name
        make_run(root, with_sentinels=False)
        m = {"throughput_output_tok_s": 50.0, "itl_mean_ms": 20.0, "tpot_mean_ms": 20.0, **ttft(500.0, 900.0, 1000.0)}
        r = row("concurrency=12", 24, m, m)
        r["engine"] = {"batch_mean": 6.9, "engine_specific": {"preemptions": 3, "max_waiting": 11}}
        r["server_metrics"] = {"measured": {"running_mean": 4.9, "waiting_mean": 2.5, "kv_usage_max": 0.897,
                                            "preemptions": 2.0, "scrapes": 9}}
        os.makedirs(os.path.join(root, "preempt-B", "live"))
        dump_json(os.path.join(root, "preempt-B", "validate.json"),
                  {"rows": [r], "live": {"server_metrics_run": {"preemptions": 3.0}}})
        res = report(root)
        self.assertIn("| 4.9 / 6.9 | 2.5 / 11 | 0.897 | 2 / 3 |", res.stdout)
        # The bar reads the whole run's count (3), not the stage window's (2).
        self.assertIn("| preemption run predicts preemption | server 3, predicted 3 |", res.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
