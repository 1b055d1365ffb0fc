"""What the client layer costs per call: a blocking ``Table`` over a backend that does nothing.

Every client method is a plan (client/plan.py) bound to both flavours; this measures
the plan, its driver and the argument checks alone, by running ``Table.row`` and
``Table.put`` against a backend whose ``call`` returns at once, and the same calls on
an embedded store for scale.  Best of 7 rounds of ``--n`` calls, in microseconds.

    python bench/client_overhead.py [--n 100000]

Run it with ``PYTHONPATH=<another checkout>/src`` to compare two versions.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from typing import Any

import hedgerow
from hedgerow.client import Table


class _NoBackend:
    """A backend that answers every call with an empty list at once."""

    def call(self, op: Any, /, *args: Any, **kwargs: Any) -> list[Any]:
        return []

    # the backend protocol before the operation table (one method per operation)
    def get(self, *args: Any) -> list[Any]:
        return []

    def mutate(self, *args: Any) -> None:
        return None


def _best_us(fn: Callable[[], object], n: int) -> float:
    best = float("inf")
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="calls per round (default 100000)")
    n = ap.parse_args().n
    t = Table("t", _NoBackend())  # type: ignore[arg-type]
    print(f"{'call':28s} {'us/call':>8s}")
    print(f"{'row, no-op backend':28s} {_best_us(lambda: t.row(b'r0001'), n):8.2f}")
    print(
        f"{'put, no-op backend':28s} {_best_us(lambda: t.put(b'r0001', {b'cf:q': b'x'}), n):8.2f}"
    )
    with hedgerow.connect(tempfile.mkdtemp(), background=False) as conn:
        conn.create_table("t", {"cf": {}})
        e = conn.table("t")
        e.put(b"r0001", {b"cf:q": b"v"})
        m = max(1, n // 5)
        print(f"{'row, embedded':28s} {_best_us(lambda: e.row(b'r0001'), m):8.2f}")
        print(f"{'put, embedded':28s} {_best_us(lambda: e.put(b'r0001', {b'cf:q': b'x'}), m):8.2f}")


if __name__ == "__main__":
    main()
