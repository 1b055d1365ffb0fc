#!/usr/bin/env bash
# Reruns every published engine comparison (docs/benchmarks.md), exact commands.
# Needs the bench extra: .venv/bin/pip install -e '.[bench]'
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${OUT:-bench/results/$(date +%Y-%m-%d)_$(hostname -s)}
mkdir -p "$OUT"
# the embedded comparison: n = 1,000,000, every engine, each in its own subprocess (< 10 min on 2 cores)
"$PY" bench/engine.py --n 1000000 --out "$OUT"
# plots for docs/benchmarks.md
"$PY" bench/plot.py "$OUT/engine.json"
# issue 2's load check (one million rows written, reopened, read back)
"$PY" bench/load_million.py --n 1000000 --out "$OUT/load_million.txt"
# the server comparison: hedgerow standalone next to Redis and PostgreSQL (apt packages redis-server, postgresql)
"$PY" bench/server.py --out "$OUT"
"$PY" bench/plot_server.py "$OUT/server.json"
# filters inside the engine (issue 3) and the Thrift gateway's cost per call (issue 4)
"$PY" bench/bench_filters.py --rows 80000 --out "$OUT/bench_filters.txt"
"$PY" bench/bench_thrift.py --n 5000 --reps 5 --out "$OUT/bench_thrift.txt"
# the table cache's cost per block read (issue 11, finding 4)
"$PY" bench/bench_table_cache.py --files 64 --n 20000 --out "$OUT/bench_table_cache.txt"
