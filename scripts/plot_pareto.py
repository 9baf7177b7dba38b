#!/usr/bin/python3
"""Draws the Pareto fronts `servetwin plan --out DIR` writes (pareto_throughput.csv, pareto_cost.csv).

Usage: scripts/plot_pareto.py DIR (Debian python3-matplotlib: /usr/bin/python3)   -> DIR/pareto_throughput.png, DIR/pareto_cost.png

Every simulated load point of every candidate is a dot (hollow when it misses the SLO), the front is
the line through the non-dominated points, and the recommended point (the cheapest plan's replica at
its maximum sustainable rate) is a star. Also importable: plot_front(csv_path, png_path, ...).
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FRONTS = {
    # file stem: (x column, y column, x label, y label, title)
    "pareto_throughput": ("tok_s_per_user", "output_tok_s_per_gpu", "tok/s per user (1000 / mean TPOT)",
                          "output tok/s per GPU", "Throughput per GPU vs interactivity"),
    "pareto_cost": ("e2e_p99_ms", "usd_per_1m_output_tok", "E2E latency p99 (ms)",
                    "USD per 1M output tokens", "Cost vs tail latency"),
}


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def plot_front(csv_path, png_path, x_col, y_col, x_label, y_label, title):
    rows = read_rows(csv_path)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for meets, style in (("1", {"color": "tab:blue", "label": "meets SLO"}),
                         ("0", {"facecolors": "none", "edgecolors": "tab:gray", "label": "misses SLO"})):
        pts = [r for r in rows if r["meets_slo"] == meets]
        if pts:
            ax.scatter([float(r[x_col]) for r in pts], [float(r[y_col]) for r in pts], s=14, **style)
    front = sorted((r for r in rows if r["on_front"] == "1"), key=lambda r: float(r[x_col]))
    if front:
        ax.plot([float(r[x_col]) for r in front], [float(r[y_col]) for r in front], color="tab:red", lw=1.5,
                label="Pareto front")
    for r in rows:
        if r["recommended"] == "1":
            ax.scatter([float(r[x_col])], [float(r[y_col])], marker="*", s=220, color="gold", edgecolors="black",
                       zorder=5, label=f"recommended: {r['instance']} TP{r['tp']} {r['engine_set']}")
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
    return rows


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = argv[1]
    for stem, (x, y, xl, yl, title) in FRONTS.items():
        plot_front(f"{out}/{stem}.csv", f"{out}/{stem}.png", x, y, xl, yl, title)
        print(f"wrote {out}/{stem}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
