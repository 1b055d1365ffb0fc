"""What one Python -> Rust crossing costs: the measurements behind RFC 0002.

The probes are in ``rust/src/bench_probe.rs`` (``hedgerow._core.probe_*``); each does
nothing but the crossing shape it is named for. Figures are ns per call (or per row),
the best of ``--repeat`` repetitions (``timeit``), each repetition sized to take about
``--target-ms``. Measured:

    call      a no-op call, five int arguments, a pure-Python no-op for comparison
    bytes     bytes in (borrowed, length returned) and bytes in + a fresh copy out,
              16 B to 1 MiB
    detach    releasing and retaking the GIL with nothing in between; the same while
              another Python thread is busy (the GIL hand-off); CRC-32C with and
              without releasing the GIL around it, by size
    rows      a batch of N (key, value) tuples of fresh bytes built in Rust in one call,
              the same built by a Python list comprehension slicing the same buffer,
              rows shaped (key, {column: value}) both ways, and a Rust iterator that
              crosses once per row
    floors    one os.write of a WAL record; one insert into the compiled memstore
              and into a dict (500,000 fresh keys, about a 128 MiB memstore; the median
              CPU time per chunk of 1,000 inserts)

    python bench/boundary.py                       # writes bench/results/<date>_dev/
    python bench/boundary.py --quick --out /tmp/x  # smoke run (tests/bench)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import timeit
from collections.abc import Callable
from typing import Any

from hedgerow import _core

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = [16, 100, 1024, 16 * 1024, 64 * 1024, 1 << 20]
ROW_COUNTS = [1, 10, 100, 1000, 10_000]
KEY_LEN, VALUE_LEN = 16, 100  # bench/engine.py's keys and values


class Timer:
    """Best-of-``repeat`` ns per call, each repetition about ``target_ms`` long.

    ``stmt`` is timed as source text over ``names`` (timeit's own loop, no lambda), so the
    figure includes only the statement's call, plus timeit's loop of about 10 ns. The
    clock is this thread's CPU time by default (``time.thread_time``: user + system,
    syscalls included), so other processes on a shared machine do not inflate it.
    """

    def __init__(self, repeat: int, target_ms: float, clock: Callable[[], float]) -> None:
        self.repeat = repeat
        self.target_s = target_ms / 1000.0
        self.clock = clock

    def ns(self, stmt: str, names: dict[str, Any], per: int = 1) -> float:
        timer = timeit.Timer(stmt, timer=self.clock, globals=names)
        number = 1
        while True:  # grow the loop count until one repetition is long enough
            t = timer.timeit(number)
            if t >= self.target_s or number >= 1 << 24:
                break
            number *= 2 if t <= 0 else max(2, min(100, int(self.target_s / t) + 1))
        best = min(timer.repeat(repeat=self.repeat, number=number))
        return best / number / per * 1e9


def _py_noop() -> None:
    return None


def _py_args5(a: int, b: int, c: int, d: int, e: int) -> int:
    return a ^ b ^ c ^ d ^ e


def measure_calls(t: Timer) -> dict[str, float]:
    names = {"c": _core, "pn": _py_noop, "pa": _py_args5, "ts": 1_700_000_000_000}
    t.ns("c.probe_noop()", names)  # warm-up: the first figure of a run came out high
    return {
        "rust_noop": t.ns("c.probe_noop()", names),
        "rust_args5": t.ns("c.probe_args5(1, 2, ts, 4, 12345)", names),
        "python_noop": t.ns("pn()", names),
        "python_args5": t.ns("pa(1, 2, ts, 4, 12345)", names),
        "timeit_loop": t.ns("pass", names),  # the harness's own per-iteration floor
    }


def measure_bytes(t: Timer) -> list[dict[str, Any]]:
    out = []
    for size in SIZES:
        names = {"c": _core, "b": random.Random(size).randbytes(size)}
        out.append(
            {
                "size": size,
                "rust_len_ns": t.ns("c.probe_len(b)", names),
                "rust_copy_ns": t.ns("c.probe_copy(b)", names),
                "python_slice_copy_ns": t.ns("b[1:]", names),
            }
        )
    return out


def _under_contention(seconds: float) -> dict[str, float]:
    """Mean ns per probe_detach / probe_noop call, each called in a loop for ``seconds``,
    while another thread runs pure Python (the GIL hand-off a server thread would see)."""
    stop = threading.Event()

    def spin() -> None:
        x = 0
        while not stop.is_set():
            x += 1

    th = threading.Thread(target=spin, daemon=True)
    th.start()
    time.sleep(0.01)
    res = {}
    try:
        for name, fn in (("noop", _core.probe_noop), ("detach", _core.probe_detach)):
            calls = 0
            t0 = time.perf_counter_ns()
            end = t0 + int(seconds * 1e9)
            now = t0
            while now < end:
                for _ in range(100):
                    fn()
                calls += 100
                now = time.perf_counter_ns()
            res[name] = (now - t0) / calls
            res[name + "_calls"] = calls
    finally:
        stop.set()
        th.join()
    return res


def measure_detach(t: Timer, contention_s: float) -> dict[str, Any]:
    crc = []
    for size in SIZES:
        names = {"c": _core, "b": random.Random(size).randbytes(size)}
        crc.append(
            {
                "size": size,
                "held_ns": t.ns("c.probe_crc(b, False)", names),
                "detached_ns": t.ns("c.probe_crc(b, True)", names),
            }
        )
    busy = _under_contention(contention_s)
    names = {"c": _core}
    return {
        "detach_idle_ns": t.ns("c.probe_detach()", names),
        "noop_idle_ns": t.ns("c.probe_noop()", names),
        "detach_busy_thread_ns": busy["detach"],
        "noop_busy_thread_ns": busy["noop"],
        "busy_calls": {"detach": busy["detach_calls"], "noop": busy["noop_calls"]},
        "contention_s": contention_s,
        "switch_interval_ms": sys.getswitchinterval() * 1000,
        "crc": crc,
    }


def _packed(n: int) -> bytes:
    return random.Random(n).randbytes(n * (KEY_LEN + VALUE_LEN))


def py_rows(buf: bytes, n: int, kl: int, vl: int) -> list[tuple[bytes, bytes]]:
    base = n * kl
    return [(buf[i * kl : i * kl + kl], buf[base + i * vl : base + i * vl + vl]) for i in range(n)]


def py_row_dicts(
    buf: bytes, n: int, kl: int, vl: int, column: bytes
) -> list[tuple[bytes, dict[bytes, bytes]]]:
    base = n * kl
    return [
        (buf[i * kl : i * kl + kl], {column: buf[base + i * vl : base + i * vl + vl]})
        for i in range(n)
    ]


def measure_rows(t: Timer, counts: list[int]) -> list[dict[str, Any]]:
    out = []
    col = b"cf:v"
    for n in counts:
        buf = _packed(n)
        expect = py_rows(buf, n, KEY_LEN, VALUE_LEN)
        assert _core.probe_rows(buf, n, KEY_LEN, VALUE_LEN) == expect
        assert list(_core.probe_row_iter(buf, n, KEY_LEN, VALUE_LEN)) == expect
        assert _core.probe_row_dicts(buf, n, KEY_LEN, VALUE_LEN, col) == py_row_dicts(
            buf, n, KEY_LEN, VALUE_LEN, col
        )
        g = {
            "c": _core,
            "b": buf,
            "n": n,
            "kl": KEY_LEN,
            "vl": VALUE_LEN,
            "col": col,
            "pr": py_rows,
            "pd": py_row_dicts,
        }
        out.append(
            {
                "rows": n,
                "rust_batch_ns_per_row": t.ns("c.probe_rows(b, n, kl, vl)", g, per=n),
                "python_batch_ns_per_row": t.ns("pr(b, n, kl, vl)", g, per=n),
                "rust_dict_rows_ns_per_row": t.ns("c.probe_row_dicts(b, n, kl, vl, col)", g, per=n),
                "python_dict_rows_ns_per_row": t.ns("pd(b, n, kl, vl, col)", g, per=n),
                "rust_iter_ns_per_row": t.ns(
                    "for _ in c.probe_row_iter(b, n, kl, vl): pass", g, per=n
                ),
            }
        )
    return out


def _median_insert_ns(add: Callable[[bytes, bytes], object], keys: list[bytes], v: bytes) -> float:
    """Median CPU ns per insert over chunks of 1,000 inserts (the map grows throughout)."""
    per = []
    clock = time.thread_time_ns
    for i in range(0, len(keys), 1000):
        chunk = keys[i : i + 1000]
        t0 = clock()
        for k in chunk:
            add(k, v)
        per.append((clock() - t0) / len(chunk))
    return statistics.median(per)


def measure_floors(t: Timer, inserts: int) -> dict[str, float]:
    """What the put path cannot go below whatever the boundary: one ``os.write`` of a
    160-byte WAL record (a put's record, page cache only), and one insert of a fresh
    internal key into the compiled memstore (``MemStore.add``, crossing included) or a
    Python dict, averaged over ``inserts`` random 16-byte rows."""
    fd, path = tempfile.mkstemp(prefix="hedgerow-boundary-")
    try:
        rec = random.Random(7).randbytes(160)
        write_ns = t.ns("w(fd, rec)", {"w": os.write, "fd": fd, "rec": rec})
    finally:
        os.close(fd)
        os.remove(path)
    rng = random.Random(8)
    keys = [_core.encode_key(rng.randbytes(16), b"v", 1, 4, i) for i in range(inserts)]
    value = rng.randbytes(100)
    memstore_ns = _median_insert_ns(_core.MemStore().add, keys, value)
    d: dict[bytes, bytes] = {}
    dict_ns = _median_insert_ns(d.__setitem__, keys, value)
    return {
        "os_write_160b_ns": write_ns,
        "memstore_add_ns": memstore_ns,
        "dict_insert_ns": dict_ns,
        "inserts": inserts,
    }


def report(res: dict[str, Any]) -> str:
    c = res["calls"]
    lines = [
        f"Boundary crossing ({res['machine']}, Python {res['python']}; ns, best of "
        f"{res['repeat']}, {res['clock']} clock; load average {res['load_average'][0]:.1f})",
        "",
        "calls                      ns/call",
    ]
    lines += [f"  {k:<24}{v:>9.0f}" for k, v in c.items()]
    lines += ["", "bytes    size   rust len   rust copy   py slice copy   (ns/call)"]
    for r in res["bytes"]:
        lines.append(
            f"  {r['size']:>10,}{r['rust_len_ns']:>11.0f}{r['rust_copy_ns']:>12.0f}"
            f"{r['python_slice_copy_ns']:>16.0f}"
        )
    d = res["detach"]
    lines += [
        "",
        f"detach (ns/call): idle {d['detach_idle_ns']:.0f} (no-op {d['noop_idle_ns']:.0f}); "
        f"with a busy Python thread {d['detach_busy_thread_ns']:,.0f} "
        f"(no-op {d['noop_busy_thread_ns']:,.0f}; switch interval "
        f"{d['switch_interval_ms']:.0f} ms)",
        "crc32c       size   GIL held   GIL released   (ns/call)",
    ]
    for r in d["crc"]:
        lines.append(f"  {r['size']:>13,}{r['held_ns']:>11.0f}{r['detached_ns']:>15.0f}")
    lines += [
        "",
        "rows (16 B key, 100 B value; ns per row)",
        "      N  rust batch  py batch  rust dict-rows  py dict-rows  rust per-row iter",
    ]
    for r in res["rows"]:
        lines.append(
            f"{r['rows']:>7,}{r['rust_batch_ns_per_row']:>12.0f}"
            f"{r['python_batch_ns_per_row']:>10.0f}{r['rust_dict_rows_ns_per_row']:>16.0f}"
            f"{r['python_dict_rows_ns_per_row']:>14.0f}{r['rust_iter_ns_per_row']:>19.0f}"
        )
    f = res["floors"]
    lines += [
        "",
        f"floors (ns/call): os.write of a 160-byte record {f['os_write_160b_ns']:.0f}; "
        f"MemStore.add of a fresh key {f['memstore_add_ns']:.0f} "
        f"(dict insert {f['dict_insert_ns']:.0f}; {f['inserts']:,} random keys)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny run (smoke test)")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--target-ms", type=float, default=10.0)
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    ap.add_argument("--out", help="directory for boundary.json (default bench/results/<date>_dev)")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat, args.target_ms = 1, 0.5
    clock = time.perf_counter if args.clock == "wall" else time.thread_time
    t = Timer(args.repeat, args.target_ms, clock)
    out_dir = args.out or os.path.join(
        ROOT, "bench", "results", f"{dt.date.today().isoformat()}_dev"
    )
    os.makedirs(out_dir, exist_ok=True)
    res: dict[str, Any] = {
        "when": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "python": platform.python_version(),
        "core_version": _core.__version__,
        "repeat": args.repeat,
        "clock": args.clock,
        "load_average": os.getloadavg(),
        "quick": args.quick,
        "calls": measure_calls(t),
        "bytes": measure_bytes(t),
        "detach": measure_detach(t, 0.02 if args.quick else 1.0),
        "rows": measure_rows(t, [1, 10] if args.quick else ROW_COUNTS),
        "floors": measure_floors(t, 1000 if args.quick else 500_000),
    }
    text = report(res)
    print(text)
    name = "boundary_quick" if args.quick else "boundary"
    with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(out_dir, f"{name}.txt"), "w") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
