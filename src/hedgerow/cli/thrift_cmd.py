"""``hedgerow thrift``: serve HBase's Thrift1 API (what happybase speaks) for a data directory.

Role: subcommand module discovered by ``hedgerow.cli.main``; opens the store
with ``hedgerow.connect`` and runs ``hedgerow.gateways.thrift.ThriftServer``
until SIGTERM or SIGINT, then stops the server and closes the connection
(which flushes the store).
Concurrency: the main thread waits; the server runs its own threads.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from hedgerow.cli.errors import CommandFailed, UsageError, is_server_target, listen_error

__all__ = ["add_parser", "run"]

_HELP = """\
Serve HBase's Thrift1 API (the one happybase and other HBase Thrift clients use)
for an embedded Hedgerow store in DIR. Stops cleanly on SIGTERM or Ctrl-C.

examples:
  hedgerow thrift --data ./data
  hedgerow thrift --data ./data --port 9090 --framed
  hedgerow thrift --connect hedgerow://127.0.0.1:16000 --port 9091
  python -c "import happybase; print(happybase.Connection('127.0.0.1', 9090).tables())"
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "thrift",
        help="serve the HBase Thrift1 API (happybase) for a data directory",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--data", metavar="DIR", help="data directory of an embedded store")
    where.add_argument(
        "--connect",
        metavar="URL",
        help="front a running server instead: hedgerow://HOST:PORT (hedgerow standalone)",
    )
    p.add_argument("--port", type=int, default=9090, help="TCP port (default 9090)")
    p.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to listen on (default 127.0.0.1)",
    )
    p.add_argument("--framed", action="store_true", help="framed transport (default buffered)")
    p.add_argument("--compact", action="store_true", help="compact protocol (default binary)")
    d = _defaults()
    p.add_argument(
        "--scanner-lease",
        type=float,
        default=d["scanner_lease_s"],
        metavar="SECONDS",
        help=f"close scanners idle this long (default {d['scanner_lease_s']:g})",
    )
    limits = p.add_argument_group(
        "connections and limits",
        "The gateway serves every client with WORKERS + 1 threads, however many connect; see "
        "docs/design/thrift-gateway.md. Timeouts of 0 mean never.",
    )
    limits.add_argument(
        "--workers",
        type=int,
        default=d["workers"],
        metavar="N",
        help=f"threads that run requests (default {d['workers']})",
    )
    limits.add_argument(
        "--max-connections",
        type=int,
        default=d["max_connections"],
        metavar="N",
        help="open client connections; more are closed at once, with a warning "
        f"(default {d['max_connections']})",
    )
    limits.add_argument(
        "--handshake-timeout",
        type=float,
        default=d["handshake_timeout_s"],
        metavar="SECONDS",
        help="close a new connection that sends no whole request this long "
        f"(default {d['handshake_timeout_s']:g})",
    )
    limits.add_argument(
        "--idle-timeout",
        type=float,
        default=d["idle_timeout_s"],
        metavar="SECONDS",
        help=f"close connections idle this long between requests (default {d['idle_timeout_s']:g})",
    )
    limits.add_argument(
        "--request-timeout",
        type=float,
        default=d["request_timeout_s"],
        metavar="SECONDS",
        help="close a connection that takes longer to send one request, or to take one "
        f"answer (default {d['request_timeout_s']:g})",
    )
    limits.add_argument(
        "--max-message-bytes",
        type=int,
        default=d["max_message_bytes"],
        metavar="BYTES",
        help=f"largest request (framed: frame) (default {d['max_message_bytes']})",
    )
    limits.add_argument(
        "--max-message-values",
        type=int,
        default=d["max_message_values"],
        metavar="N",
        help="most values (fields, list elements, map entries) in one request "
        f"(default {d['max_message_values']})",
    )


def _defaults() -> dict[str, Any]:
    from hedgerow.gateways.thrift.server import DEFAULTS

    return DEFAULTS


def _timeout(seconds: float) -> float | None:
    return seconds if seconds > 0 else None


def run(args: argparse.Namespace) -> int:
    import hedgerow
    from hedgerow.gateways.thrift import ThriftServer

    if args.connect is not None and not is_server_target(args.connect, "--connect"):
        raise UsageError(
            f"--connect expects hedgerow://HOST:PORT or hedgerow+zk://ZK:PORT/ROOT, got {args.connect!r}"
        )
    if args.data is not None and is_server_target(args.data, "--data"):
        raise UsageError(f"--data expects a directory; for a server use --connect {args.data}")
    conn = hedgerow.connect(args.connect or args.data)
    try:
        server = ThriftServer(
            conn,
            host=args.bind,
            port=args.port,
            framed=args.framed,
            compact=args.compact,
            scanner_lease_s=args.scanner_lease,
            workers=args.workers,
            max_connections=args.max_connections,
            handshake_timeout_s=_timeout(args.handshake_timeout),
            idle_timeout_s=_timeout(args.idle_timeout),
            request_timeout_s=_timeout(args.request_timeout),
            max_message_bytes=args.max_message_bytes,
            max_message_values=args.max_message_values,
        ).start()
    except OSError as e:
        conn.close()
        raise CommandFailed(
            listen_error(e, args.bind, [("HBase Thrift", "--port", args.port)])
        ) from None
    except BaseException:
        conn.close()
        raise
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    where = f"fronting {args.connect}" if args.connect else f"data in {args.data}"
    print(f"{server.describe()}; {where}", flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        server.stop()
        conn.close()
        print("stopped; store closed", file=sys.stderr, flush=True)
    return 0
