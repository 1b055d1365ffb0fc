"""Plots for docs/benchmarks.md from bench/engine.py's JSON results.

    python bench/plot.py bench/results/2026-11-26_dev/engine.json   # -> docs/_static/*.png

Writes ``engine_throughput.png`` (ops/s per workload and engine, log scale),
``engine_ratio.png`` (Hedgerow / peer per workload, targets marked),
``engine_latency.png`` (p50 and p99 of single operations) and
``engine_memory.png`` (peak RSS).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKLOADS = [
    "fillseq",
    "fillrandom",
    "fillbatch",
    "overwrite",
    "readrandom",
    "readmissing",
    "readhot",
    "seekrandom",
    "scan",
]
ORDER = ["hedgerow", "rocksdb", "leveldb", "lmdb", "sqlite", "dict"]
COLORS = {
    "hedgerow": "#2e7d32",
    "rocksdb": "#1565c0",
    "leveldb": "#6a1b9a",
    "lmdb": "#ef6c00",
    "sqlite": "#795548",
    "dict": "#9e9e9e",
}


def _engines(res: dict[str, Any]) -> list[str]:
    return [e for e in ORDER if e in res["engines"]]


def throughput(res: dict[str, Any], path: str) -> None:
    engines = _engines(res)
    wls = [w for w in WORKLOADS if any(w in res["engines"][e]["workloads"] for e in engines)]
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.8 / len(engines)
    for k, e in enumerate(engines):
        ws = res["engines"][e]["workloads"]
        xs = [i + (k - (len(engines) - 1) / 2) * width for i in range(len(wls))]
        ys = [(ws[w].get("rows_per_s", ws[w]["ops_per_s"]) if w in ws else 0) for w in wls]
        ax.bar(xs, ys, width, label=e, color=COLORS[e])
    ax.set_yscale("log")
    ax.set_xticks(range(len(wls)))
    ax.set_xticklabels(wls)
    ax.set_ylabel("operations/s (log; seekrandom and scan: rows/s)")
    ax.set_title(f"Embedded engines, n = {res['n']:,} keys, 16 B keys / 100 B values")
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.legend(ncol=len(engines), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ratio(res: dict[str, Any], path: str) -> None:
    if "hedgerow" not in res["engines"]:
        return
    peers = [e for e in _engines(res) if e not in ("hedgerow", "dict")]
    h = res["engines"]["hedgerow"]["workloads"]
    wls = [w for w in WORKLOADS if w in h]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / max(1, len(peers))
    for k, p in enumerate(peers):
        ws = res["engines"][p]["workloads"]
        xs = [i + (k - (len(peers) - 1) / 2) * width for i in range(len(wls))]
        ys = [h[w]["ops_per_s"] / ws[w]["ops_per_s"] if w in ws else 0 for w in wls]
        ax.bar(xs, ys, width, label=f"vs {p}", color=COLORS[p])
    ax.axhline(1.0, color="black", lw=0.8)
    for t in res.get("targets", []):
        if t["workload"] in wls and t["peer"] in peers:
            i = wls.index(t["workload"])
            k = peers.index(t["peer"])
            x = i + (k - (len(peers) - 1) / 2) * width
            ax.plot([x - width / 2, x + width / 2], [t["target"]] * 2, color="red", lw=2)
    ax.set_yscale("log")
    ax.set_xticks(range(len(wls)))
    ax.set_xticklabels(wls)
    ax.set_ylabel("Hedgerow ops/s ÷ peer ops/s (log)")
    ax.set_title("Hedgerow relative to each peer (red ticks: issue 7 targets; 1.0 = parity)")
    ax.grid(axis="y", which="both", alpha=0.25)
    ax.legend(ncol=len(peers), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latency(res: dict[str, Any], path: str) -> None:
    engines = _engines(res)
    wls = ["fillrandom", "overwrite", "readrandom", "readmissing", "readhot"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    width = 0.8 / len(engines)
    for ax, key, title in ((axes[0], "p50_us", "p50"), (axes[1], "p99_us", "p99")):
        for k, e in enumerate(engines):
            ws = res["engines"][e]["workloads"]
            xs = [i + (k - (len(engines) - 1) / 2) * width for i in range(len(wls))]
            ys = [ws[w][key] if w in ws else 0 for w in wls]
            ax.bar(xs, ys, width, label=e, color=COLORS[e])
        ax.set_yscale("log")
        ax.set_xticks(range(len(wls)))
        ax.set_xticklabels(wls, fontsize=8)
        ax.set_title(f"{title} latency per operation (µs, log)")
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def memory(res: dict[str, Any], path: str) -> None:
    engines = _engines(res)
    fig, ax = plt.subplots(figsize=(8, 3.8))
    base = [res["engines"][e]["rss_harness_mb"] for e in engines]
    load = [res["engines"][e]["rss_load_mb"] for e in engines]
    peak = [res["engines"][e]["rss_peak_mb"] for e in engines]
    xs = range(len(engines))
    ax.bar([x - 0.27 for x in xs], base, 0.27, label="harness (keys in memory)", color="#bdbdbd")
    ax.bar(list(xs), load, 0.27, label="peak after the load", color="#66bb6a")
    ax.bar([x + 0.27 for x in xs], peak, 0.27, label="peak over the whole run", color="#1b5e20")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(engines)
    ax.set_ylabel("RSS MB")
    ax.set_title(f"Peak resident memory per engine subprocess, n = {res['n']:,}")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("results", help="engine.json from bench/engine.py --out")
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "_static"))
    args = p.parse_args()
    with open(args.results) as f:
        res = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    throughput(res, os.path.join(args.out, "engine_throughput.png"))
    ratio(res, os.path.join(args.out, "engine_ratio.png"))
    latency(res, os.path.join(args.out, "engine_latency.png"))
    memory(res, os.path.join(args.out, "engine_memory.png"))
    print(f"plots written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
