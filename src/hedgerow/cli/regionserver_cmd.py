"""``hedgerow regionserver``: run one region server process of a cluster.

Role: subcommand module discovered by ``hedgerow.cli.main``; runs
``hedgerow.server.cluster_regionserver.RegionServerProcess`` until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
from typing import Any

from hedgerow.cli._process import add_process_parser, run_process

__all__ = ["add_parser", "run"]

_HELP = """\
Run a region server of a Hedgerow cluster: it serves the regions the active master
opens on it, writes its WAL under ROOT/WALs/<host,port,startcode>/, and registers in
ZooKeeper once listening. It exits with status 1 if its ZooKeeper session is lost
(the cluster has declared it dead). SIGTERM drains it first: the active master moves its
regions to the other region servers while it keeps serving (at most --drain-timeout
seconds; skipped when it is the last region server), then it flushes and closes what is
left and leaves the cluster cleanly.

examples:
  hedgerow regionserver --zk 127.0.0.1:2181/hedgerow --root /shared/hedgerow
  hedgerow regionserver --zk zk1:2181,zk2:2181 --root /mnt/nfs/hedgerow --port 16020
"""


def add_parser(sub: Any) -> None:
    p = add_process_parser(
        sub,
        "regionserver",
        "run a region server process of a cluster (ZooKeeper + shared root)",
        _HELP,
    )
    p.add_argument(
        "--drain-timeout",
        type=float,
        default=60.0,
        help="on SIGTERM, wait at most this many seconds for the master to move this "
        "server's regions away before closing them (default 60; 0: no drain)",
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="an engine option, e.g. --set region_split_bytes=1073741824 (repeatable; "
        "hedgerow standalone --help lists the usual ones)",
    )


def run(args: argparse.Namespace) -> int:
    from hedgerow.cli.standalone_cmd import _engine_options
    from hedgerow.server.cluster_regionserver import RegionServerProcess

    return run_process(
        RegionServerProcess,
        args,
        drain_timeout_s=args.drain_timeout,
        engine_options=_engine_options(args.set),
    )
