"""``hedgerow master``: run one master process of a cluster (active or backup).

Role: subcommand module discovered by ``hedgerow.cli.main``; runs
``hedgerow.server.cluster_master.MasterProcess`` until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
from typing import Any

from hedgerow.cli._process import add_common, check_zk, serve_until_signal

__all__ = ["add_parser", "run"]

_HELP = """\
Run a master of a Hedgerow cluster. Every master campaigns in ZooKeeper; the first is
active, the others wait as backups and take over when it goes. The active master keeps
the catalog and hbase:meta (served from this process), assigns regions to the region
servers and balances them, and answers clients' DDL, admin and location calls.
It exits with status 1 if its ZooKeeper session is lost or it is deposed.

examples:
  hedgerow master --zk 127.0.0.1:2181/hedgerow --root /shared/hedgerow --port 16000
  python -c "import hedgerow; print(hedgerow.connect('hedgerow+zk://127.0.0.1:2181/hedgerow').tables())"
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "master",
        help="run a master process of a cluster (ZooKeeper + shared root)",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(p)


def run(args: argparse.Namespace) -> int:
    from hedgerow.server.cluster_master import MasterProcess

    check_zk(args.zk)
    proc = MasterProcess(
        args.zk,
        args.root,
        host=args.bind,
        port=args.port,
        session_timeout_s=args.session_timeout,
    )
    return serve_until_signal(proc.start, proc.stop)
