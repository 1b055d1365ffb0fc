"""A short tour of embedded Hedgerow on a data directory: ``python -m hedgerow.examples.tour ./data``.

Creates (or reuses) a table, writes versioned cells, a counter and a batch,
reads them back with gets, scans and a filter, and shows that the data is
still there the next time you run it.
"""

from __future__ import annotations

import sys
import time

import hedgerow


def main(argv: list[str]) -> int:
    path = argv[1] if len(argv) > 1 else "./data"
    with hedgerow.connect(path) as conn:
        if b"tour" not in conn.tables():
            conn.create_table("tour", {"info": {"max_versions": 3}, "stats": {}})
            print(f"created table 'tour' in {path}")
        t = conn.table("tour")
        runs = t.counter_inc(b"meta", b"stats:runs")
        t.put(b"user:alice", {b"info:name": b"Alice", b"info:city": b"Lyon"})
        t.put(b"user:alice", {b"info:city": f"Lyon (run {runs})".encode()})
        with t.batch() as b:
            for i in range(5):
                b.put(f"event:{i:03d}".encode(), {b"info:at": str(time.time()).encode()})
        print(f"run number {runs} on this directory")
        print("row user:alice      ->", t.row(b"user:alice"))
        print("versions of city    ->", t.cells(b"user:alice", b"info:city", versions=3))
        print("scan prefix event:  ->", [k for k, _ in t.scan(row_prefix=b"event:", limit=3)])
        hits = t.scan(filter="ValueFilter(=, 'substring:lyon')")
        print("filter substring    ->", [k for k, _ in hits])
    print("closed cleanly; run again to see the counter go up")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
