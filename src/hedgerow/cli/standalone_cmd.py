"""``hedgerow standalone``: serve a data directory over RPC and the HBase Thrift API.

Role: subcommand module discovered by ``hedgerow.cli.main``; runs
``hedgerow.server.StandaloneServer`` until SIGTERM or SIGINT, then shuts down
cleanly (flushes, closes the WAL). Restarting on the same directory serves
everything again.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from hedgerow.cli.errors import CommandFailed, UsageError, listen_error

__all__ = ["add_parser", "run"]

_HELP = """\
Run Hedgerow as a server on a local data directory: the Hedgerow RPC protocol
(hedgerow.connect("hedgerow://HOST:PORT")) and HBase's Thrift1 API (happybase).
Binds to 127.0.0.1 unless told otherwise. Stops cleanly on SIGTERM or Ctrl-C.

examples:
  hedgerow standalone --data ./data
  hedgerow standalone --data ./data --port 16000 --thrift-port 9090
  python -c "import hedgerow; print(hedgerow.connect('hedgerow://127.0.0.1:16000').tables())"
  hedgerow shell hedgerow://127.0.0.1:16000
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "standalone",
        help="serve a data directory over the network (RPC + HBase Thrift)",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data", required=True, metavar="DIR", help="data directory (created if missing)"
    )
    p.add_argument("--port", type=int, default=16000, help="Hedgerow RPC port (default 16000)")
    p.add_argument(
        "--thrift-port",
        type=int,
        default=9090,
        help="HBase Thrift1 port (default 9090; -1 disables)",
    )
    p.add_argument("--thrift-framed", action="store_true", help="framed Thrift transport")
    p.add_argument("--thrift-compact", action="store_true", help="compact Thrift protocol")
    p.add_argument(
        "--thrift-set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="a Thrift gateway limit (repeatable; 0 turns a timeout off): "
        + ", ".join(f"{k} (default {v})" for k, v in _thrift_defaults().items()),
    )
    p.add_argument(
        "--bind",
        default="127.0.0.1",
        metavar="ADDR",
        help="address to listen on (default 127.0.0.1)",
    )
    p.add_argument(
        "--switch-interval",
        type=float,
        default=0.0005,
        metavar="SECONDS",
        help="Python's GIL switch interval in the server (default 0.0005; Python's own is "
        "0.005): shorter keeps request latency low while flushes and compactions run",
    )
    p.add_argument(
        "--rpc-max-in-flight",
        type=int,
        default=128,
        metavar="N",
        help="requests of one RPC connection run at once (default 128); beyond, the "
        "server stops reading the connection",
    )
    p.add_argument(
        "--rpc-max-queued-response-bytes",
        type=int,
        default=8 * 1024 * 1024,
        metavar="BYTES",
        help="unsent answer bytes one RPC connection may hold (default 8 MiB); beyond, "
        "the server stops reading it and starting its requests until the client reads",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="an engine option, e.g. --set flush_size_bytes=67108864 (repeatable); "
        "compactions run in a worker process unless --set compaction_processes=0",
    )


def _thrift_defaults() -> dict[str, Any]:
    from hedgerow.gateways.thrift.server import DEFAULTS, TUNABLES

    return {k: DEFAULTS[k] for k in TUNABLES}


def _thrift_options(pairs: list[str]) -> dict[str, Any]:
    defaults = _thrift_defaults()
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or name not in defaults:
            raise UsageError(
                f"--thrift-set expects OPTION=VALUE with OPTION one of "
                f"{', '.join(sorted(defaults))}; got {pair!r}"
            )
        try:
            if isinstance(defaults[name], float) or name.endswith("_s"):
                seconds = float(raw)
                out[name] = seconds if seconds > 0 or name == "scanner_lease_s" else None
            else:
                out[name] = int(raw)
        except ValueError:
            raise UsageError(f"--thrift-set {name} expects a number, got {raw!r}") from None
    return out


def _engine_options(pairs: list[str]) -> dict[str, Any]:
    """``--set OPTION=VALUE`` pairs -> engine options, each converted and checked."""
    from hedgerow.engine import DEFAULTS, EngineConfig
    from hedgerow.errors import InvalidArgument

    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or name not in DEFAULTS:
            raise UsageError(
                f"--set expects OPTION=VALUE with OPTION one of {', '.join(sorted(DEFAULTS))}; "
                f"got {pair!r}"
            )
        default = DEFAULTS[name]
        value: Any
        try:
            if isinstance(default, bool):
                value = raw.lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int):
                value = int(raw)
            elif isinstance(default, float):
                value = float(raw)
            else:
                value = raw
        except ValueError:
            kind = "an integer" if isinstance(default, int) else "a number"
            raise UsageError(f"--set {name} expects {kind}, got {raw!r}") from None
        out[name] = value
    try:  # the engine's own checks (ranges), before anything is opened
        EngineConfig.from_options(out)
    except InvalidArgument as e:
        raise UsageError(f"--set: {e}") from None
    return out


def run(args: argparse.Namespace) -> int:
    from hedgerow.server import StandaloneServer
    from hedgerow.server.standalone import StandaloneConfig

    cfg = StandaloneConfig(
        data=args.data,
        host=args.bind,
        port=args.port,
        thrift_options=_thrift_options(args.thrift_set),
        thrift_port=None if args.thrift_port < 0 else args.thrift_port,
        thrift_framed=args.thrift_framed,
        thrift_compact=args.thrift_compact,
        rpc_max_in_flight=args.rpc_max_in_flight,
        rpc_max_queued_response_bytes=args.rpc_max_queued_response_bytes,
    )
    if args.switch_interval > 0:
        sys.setswitchinterval(args.switch_interval)
    server = StandaloneServer(cfg, _engine_options(args.set))
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            lines = server.start()  # on failure it has closed what it opened
        except OSError as e:
            listeners = [("Hedgerow RPC", "--port", args.port)]
            if cfg.thrift_port is not None:
                listeners.append(("HBase Thrift", "--thrift-port", cfg.thrift_port))
            raise CommandFailed(listen_error(e, args.bind, listeners)) from None
        try:
            for line in lines:
                print(line, flush=True)
            print("ready", flush=True)
            while not stop.wait(1.0):
                pass
        finally:
            server.stop()
            print("stopped; store flushed and closed", file=sys.stderr, flush=True)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return 0
