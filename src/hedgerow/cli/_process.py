"""What ``hedgerow master`` and ``hedgerow regionserver`` share: options, logging, signals.

Role: helpers for the two cluster process commands (cli/master_cmd.py,
cli/regionserver_cmd.py): ``--zk``/``--root``/``--port``/``--session-timeout`` options,
logging to standard error, and running a process until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from hedgerow.cli.errors import UsageError
from hedgerow.errors import InvalidArgument

__all__ = ["add_common", "add_process_parser", "check_zk", "run_process", "serve_until_signal"]


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--zk",
        required=True,
        metavar="HOST:PORT[,..][/root]",
        help="the ZooKeeper quorum and the cluster's znode root (default /hedgerow)",
    )
    p.add_argument(
        "--root",
        required=True,
        metavar="DIR",
        help="the cluster's shared root directory (every process sees the same one)",
    )
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="RPC port (default 0: any free port)")
    p.add_argument(
        "--session-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="ZooKeeper session timeout in seconds: how long a crashed process goes "
        "unnoticed (default 10)",
    )


def add_process_parser(
    sub: Any, name: str, summary: str, description: str
) -> argparse.ArgumentParser:
    """The subcommand ``name`` with the common options (``add_common``)."""
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(p)
    return p


class _Process(Protocol):
    def start(self) -> str: ...

    def stop(self) -> None: ...


def run_process(factory: Callable[..., _Process], args: argparse.Namespace, **extra: Any) -> int:
    """Build the process from the common options (and ``extra`` keyword arguments) and
    serve it until a signal."""
    check_zk(args.zk)
    proc = factory(
        args.zk,
        args.root,
        host=args.bind,
        port=args.port,
        session_timeout_s=args.session_timeout,
        **extra,
    )
    return serve_until_signal(proc.start, proc.stop)


def check_zk(text: str) -> None:
    from hedgerow.cluster.quorum import parse_quorum

    try:
        parse_quorum(text)
    except InvalidArgument as e:
        raise UsageError(f"--zk: {e}") from None


def serve_until_signal(start: Callable[[], str], stop: Callable[[], None]) -> int:
    """Start, print its line and "ready", wait for SIGTERM/SIGINT, then stop."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s",
    )
    done = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        done.set()

    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        try:
            line = start()
        except BaseException:
            stop()
            raise
        print(line, flush=True)
        print("ready", flush=True)
        while not done.wait(0.5):
            pass
        stop()
        print("stopped", file=sys.stderr, flush=True)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    return 0
