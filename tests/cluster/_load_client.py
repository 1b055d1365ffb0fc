"""A client process for tests/cluster/test_graceful.py: writes and reads known keys through
``hedgerow+zk://`` until a stop file appears, recording every failed call and the longest
stall (the slowest call), then writes a JSON report.

usage: python _load_client.py URL CLIENT_ID STOP_FILE REPORT_FILE

Each write puts row ``<i mod 10>-c<id>-<i>`` (spread over a table split at "1".."8") with
its own name as value and no explicit timestamp (a plain put, as an application writes);
after each acknowledged write it reads back an earlier acknowledged row and checks its
value. The report lists the acknowledged rows, so the test can check none was lost.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import traceback


def main() -> int:
    url, cid, stop_file, report = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    import hedgerow

    rng = random.Random(cid)
    conn = hedgerow.connect(url, timeout_s=30.0)
    t = conn.table("t")
    acked: list[str] = []
    failures: list[str] = []
    stall, stall_at, ops, i = 0.0, 0.0, 0, 0
    started = time.monotonic()
    progress = report + ".progress"
    while not os.path.exists(stop_file):
        key = b"%d-c%d-%06d" % (i % 10, cid, i)
        i += 1
        t0 = time.monotonic()
        try:
            t.put(key, {b"cf:v": key})
            acked.append(key.decode())
        except Exception as e:
            failures.append(f"put {key!r} at {t0 - started:.2f} s: {e!r}")
        took = time.monotonic() - t0
        ops += 1
        if took > stall:
            stall, stall_at = took, t0 - started
        if acked:
            old = rng.choice(acked).encode()
            t0 = time.monotonic()
            try:
                got = t.row(old, columns=[b"cf:v"]).get(b"cf:v")
                if got != old:
                    failures.append(f"get {old!r}: read {got!r}")
            except Exception as e:
                failures.append(f"get {old!r} at {t0 - started:.2f} s: {e!r}")
            took = time.monotonic() - t0
            ops += 1
            if took > stall:
                stall, stall_at = took, t0 - started
        if ops % 50 < 2:
            with open(progress, "w") as f:
                f.write(str(len(acked)))
        time.sleep(0.002)
    conn.close()
    with open(report + ".tmp", "w") as f:
        json.dump(
            {
                "acked": acked,
                "failures": failures,
                "ops": ops,
                "stall_s": stall,
                "stall_at_s": stall_at,
                "seconds": time.monotonic() - started,
            },
            f,
        )
    os.replace(report + ".tmp", report)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        sys.exit(2)
