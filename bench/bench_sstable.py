"""Store-file writer and reader costs, through their public API only.

Issue 13 moved block encoding and decoding, bloom filters and the block codecs into the
Rust core (rust/src/sstable/). This benchmark touches only ``SSTableWriter`` and
``SSTableReader``, so the same script measures any tree: run it once as is and once with
``PYTHONPATH=<old tree>/src`` (a ``git archive`` of the commit before, with the built
``_core`` copied in) for a before/after. One file of ``--n`` entries (16-byte rows, one
qualifier, 100-byte values: 50 random + 50 repetitive bytes), 64 KiB blocks, ROW bloom.
Figures: write = add + finish + fsync (best of 2); point reads = bloom check + ``get_row``
of random existing rows, warm cache, median of 5 runs (us per read); cold = the same with
no block cache, so every read verifies, decompresses and decodes a block; bloom reject =
``may_contain_row`` of absent rows; scan = ``iter_from`` over the file, warm.

    python bench/bench_sstable.py --n 200000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time

from hedgerow.model.keys import encode_key, row_end, row_prefix
from hedgerow.storage.block_cache import BlockCache
from hedgerow.storage.fs import LocalFS
from hedgerow.storage.sstable_reader import SSTableReader
from hedgerow.storage.sstable_writer import SSTableWriter


def _write(fs: LocalFS, path: str, rows: list[bytes], values: list[bytes], codec: str) -> float:
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        w = SSTableWriter(
            fs,
            path,
            family=b"cf",
            block_size_bytes=64 * 1024,
            compression=codec,
            bloom_filter_type="ROW",
        )
        for r, v in zip(rows, values, strict=True):
            w.add(encode_key(r, b"q", 1, 4, 1), v)
        w.finish()
        best = min(best, time.perf_counter() - t)
    return best


def _reads_us(reader: SSTableReader, rows: list[bytes], runs: int) -> float:
    bounds = [(r, row_prefix(r), row_end(r)) for r in rows]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        for r, lo, hi in bounds:
            if reader.may_contain_row(r):
                reader.get_row(lo, hi)
        times.append((time.perf_counter() - t) / len(bounds) * 1e6)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200_000)
    p.add_argument("--reads", type=int, default=50_000)
    p.add_argument("--codecs", default="none,lz4,zstd")
    args = p.parse_args()
    rng = random.Random(42)
    rows = sorted({rng.randbytes(16) for _ in range(args.n)})
    values = [rng.randbytes(50) + b"v" * 50 for _ in rows]
    probe = rng.sample(rows, min(args.reads, len(rows)))
    absent = [b"\xff" + rng.randbytes(15) for _ in range(len(probe))]
    fs = LocalFS()
    print(f"n={len(rows):,} reads={len(probe):,}")
    print("codec  write_s  size_MB  get_warm_us  get_cold_us  bloom_reject_us  scan_Mrows_s")
    with tempfile.TemporaryDirectory() as d:
        for codec in args.codecs.split(","):
            path = os.path.join(d, f"{codec}.sst")
            write_s = _write(fs, path, rows, values, codec)
            size = os.path.getsize(path) / 1e6
            warm = SSTableReader.open(fs, path, file_id=1, cache=BlockCache(1 << 30))
            _reads_us(warm, probe, 1)  # fill the cache
            get_warm = _reads_us(warm, probe, 5)
            cold = SSTableReader.open(fs, path, file_id=2, cache=None)
            get_cold = _reads_us(cold, probe[: len(probe) // 10], 3)
            t = time.perf_counter()
            hits = sum(map(warm.may_contain_row, absent))
            reject = (time.perf_counter() - t) / len(absent) * 1e6
            t = time.perf_counter()
            scanned = sum(1 for _ in warm.iter_from())
            scan = scanned / (time.perf_counter() - t) / 1e6
            assert scanned == len(rows) and hits < len(absent) // 20
            warm.close()
            cold.close()
            print(
                f"{codec:5}  {write_s:7.2f}  {size:7.1f}  {get_warm:11.2f}  {get_cold:11.1f}"
                f"  {reject:15.2f}  {scan:12.2f}"
            )


if __name__ == "__main__":
    main()
