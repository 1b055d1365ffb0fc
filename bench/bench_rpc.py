"""RPC round-trip latency over loopback: PING and a single-row GET, blocking transport.

The server runs in a child process (its own GIL), serving an embedded engine
with one small table; the client does ``--n`` sequential calls from one thread
after a warm-up and prints count, p50, p90, p99, max.  ``--inline-get`` runs
GET handler calls on the server's event loop instead of the thread pool.

    python bench/bench_rpc.py --n 20000 [--inline-get]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import signal
import tempfile
import time


def _serve(port_q: mp.Queue, inline_get: bool) -> None:  # type: ignore[type-arg]
    import hedgerow
    from hedgerow.model.mutation import Put, RowMutation
    from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor
    from hedgerow.rpc import MessageType, RpcServer

    conn = hedgerow.connect(tempfile.mkdtemp())
    eng = conn.backend
    eng.create_table(TableDescriptor("t", {b"cf": ColumnFamilyDescriptor(b"cf")}))
    eng.mutate(
        "t", [RowMutation(b"r%04d" % i, (Put(b"cf", b"q", b"v" * 16),)) for i in range(1000)]
    )
    srv = RpcServer(eng, inline_types=[MessageType.GET] if inline_get else ())
    srv.start_in_thread()
    port_q.put(srv.port)
    signal.sigwait([signal.SIGTERM])
    srv.stop()
    conn.close()


def _stats(name: str, lat: list[float]) -> str:
    lat.sort()
    n = len(lat)
    q = lambda p: lat[min(n - 1, int(n * p))] * 1e6  # noqa: E731
    return f"{name:<14}{n:>8}{q(0.5):>10.1f}{q(0.9):>10.1f}{q(0.99):>10.1f}{lat[-1] * 1e6:>10.0f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--inline-get", action="store_true")
    args = ap.parse_args()
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    proc = ctx.Process(target=_serve, args=(q, args.inline_get), daemon=True)
    proc.start()
    port = q.get(timeout=60)
    from hedgerow.model.read_spec import ReadSpec
    from hedgerow.rpc import MessageType, RpcBackend, SocketTransport
    from hedgerow.rpc.operations import Operations as Ops

    tr = SocketTransport("127.0.0.1", port)
    b = RpcBackend(tr)
    spec = ReadSpec()
    print(f"{'op':<14}{'count':>8}{'p50 us':>10}{'p90 us':>10}{'p99 us':>10}{'max us':>10}")
    for name, fn in [
        ("ping", lambda: tr.call(MessageType.PING, b"\xc0")),
        (
            "get" + ("(inline)" if args.inline_get else ""),
            lambda: b.call(Ops.get, "t", b"r0001", spec),
        ),
    ]:
        for _ in range(2000):
            fn()
        lat = []
        for _ in range(args.n):
            t0 = time.perf_counter()
            fn()
            lat.append(time.perf_counter() - t0)
        print(_stats(name, lat))
    tr.close()
    proc.terminate()
    proc.join(10)


if __name__ == "__main__":
    main()
