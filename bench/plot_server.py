"""Plots for docs/benchmarks.md from bench/server.py's JSON results.

    python bench/plot_server.py bench/results/2026-11-26_dev/server.json   # -> docs/_static/

Writes ``server_throughput.png`` (ops/s per workload, store and client count) and
``server_latency.png`` (p50 and p99 at one client, log scale).
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
COLORS = {"hedgerow": "#2e7d32", "redis": "#c62828", "postgres": "#1565c0"}


def _label(r: dict[str, Any]) -> str:
    d = r["durability"]
    return r["workload"] + ("" if d == "-" else f"\n{d}")


def _groups(results: list[dict[str, Any]]) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for r in results:
        key = (r["workload"], r["durability"])
        if r["store"] == "hedgerow" and key not in seen:
            seen.append(key)
    return seen


def _peer_for(
    results: list[dict[str, Any]], group: tuple[str, str], store: str, clients: int
) -> Any:
    wl, dur = group
    # peers run the same workload at the matching durability (see bench/server.py's mapping)
    match = {
        "SYNC_WAL": ("aof everysec", "sync_commit=off"),
        "FSYNC_WAL": ("aof always", "sync_commit=on"),
    }.get(dur, ("-", "-"))
    want = match[0] if store == "redis" else match[1] if store == "postgres" else dur
    for r in results:
        if (r["store"], r["workload"], r["clients"], r["durability"]) == (store, wl, clients, want):
            return r
    return None


def throughput(results: list[dict[str, Any]], path: str) -> None:
    groups = _groups(results)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True)
    for ax, clients in zip(axes, (1, 8), strict=True):
        stores = ["hedgerow", "redis", "postgres"]
        width = 0.8 / len(stores)
        for k, store in enumerate(stores):
            xs, ys = [], []
            for i, g in enumerate(groups):
                r = _peer_for(results, g, store, clients)
                if r is not None:
                    xs.append(i + (k - 1) * width)
                    ys.append(r["ops_s"])
            ax.bar(xs, ys, width, label=store, color=COLORS[store])
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(
            [g[0] + ("" if g[1] == "-" else f"\n{g[1]}") for g in groups], fontsize=8
        )
        ax.set_yscale("log")
        ax.set_title(f"{clients} client{'s' if clients > 1 else ''}")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("operations / s (log)")
    axes[0].legend()
    fig.suptitle("Server throughput on loopback (higher is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def latency(results: list[dict[str, Any]], path: str) -> None:
    groups = _groups(results)
    fig, ax = plt.subplots(figsize=(11, 4.4))
    stores = ["hedgerow", "redis", "postgres"]
    width = 0.8 / len(stores)
    for k, store in enumerate(stores):
        for i, g in enumerate(groups):
            r = _peer_for(results, g, store, 1)
            if r is None:
                continue
            x = i + (k - 1) * width
            ax.bar(x, r["p99_ms"], width, color=COLORS[store], alpha=0.35)
            ax.bar(x, r["p50_ms"], width, color=COLORS[store], label=store if i == 0 else None)
    ax.axhline(1.0, color="black", lw=0.8, ls="--")
    ax.text(len(groups) - 0.5, 1.05, "1 ms (get p99 target)", ha="right", fontsize=8)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g[0] + ("" if g[1] == "-" else f"\n{g[1]}") for g in groups], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("ms (log): solid p50, light p99")
    ax.set_title("Server latency at one client (lower is better)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("json", help="bench/server.py's server.json")
    p.add_argument("--out-dir", default=os.path.join(ROOT, "docs", "_static"))
    args = p.parse_args()
    with open(args.json) as f:
        res = json.load(f)
    os.makedirs(args.out_dir, exist_ok=True)
    throughput(res["results"], os.path.join(args.out_dir, "server_throughput.png"))
    latency(res["results"], os.path.join(args.out_dir, "server_latency.png"))
    print(f"wrote server_throughput.png and server_latency.png to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
