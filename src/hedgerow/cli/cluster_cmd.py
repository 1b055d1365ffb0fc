"""``hedgerow cluster up|down``: a local cluster of processes on loopback, in one command.

Role: subcommand module discovered by ``hedgerow.cli.main``; runs
``hedgerow.server.local_cluster.LocalCluster``.
"""

from __future__ import annotations

import argparse
from typing import Any

from hedgerow.cli._process import check_zk
from hedgerow.cli.errors import UsageError

__all__ = ["add_parser", "run"]

_HELP = """\
Start or stop a whole Hedgerow cluster on this machine, for development and tests.

`up` starts ZooKeeper (Debian's `zookeeper` package, on a free 127.0.0.1 port; or use
--zk to join an existing quorum), M masters (the first is active, the others are
backups) and N region servers, each on a free loopback port. The cluster's shared root
is DIR/root, every process logs to DIR/logs/<name>.log, and DIR/cluster.json records
the processes. It prints the address to connect to, then returns (the processes keep
running). `down` stops them: SIGTERM (region servers flush and close their regions),
then SIGKILL for any still running after --timeout seconds, then ZooKeeper.

examples:
  hedgerow cluster up --servers 3 --masters 2 --dir ./dev-cluster
  python -c "import hedgerow; c = hedgerow.connect('hedgerow+zk://127.0.0.1:PORT/hedgerow')"
  hedgerow cluster down --dir ./dev-cluster
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "cluster",
        help="start/stop a local cluster (ZooKeeper, masters, region servers)",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", choices=["up", "down"], help="start or stop the cluster")
    p.add_argument("--dir", required=True, metavar="D", help="the cluster's directory")
    p.add_argument("--servers", type=int, default=3, help="region servers (up; default 3)")
    p.add_argument("--masters", type=int, default=1, help="masters (up; default 1)")
    p.add_argument("--zk", default="", metavar="HOST:PORT[,..][/root]", help="use this quorum (up)")
    p.add_argument(
        "--session-timeout", type=float, default=10.0, metavar="S", help="(up; default 10)"
    )
    p.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="SIGKILL after (down; 30)"
    )


def run(args: argparse.Namespace) -> int:
    from hedgerow.server.local_cluster import LocalCluster

    if args.action == "up":
        if args.servers < 1 or args.masters < 1:
            raise UsageError("--servers and --masters must be at least 1")
        if args.zk:
            check_zk(args.zk)
        c = LocalCluster(args.dir, zk=args.zk, session_timeout_s=args.session_timeout)
        try:
            c.up(args.servers, args.masters)
        except BaseException:
            c.down(timeout_s=args.timeout)
            raise
        for line in c.describe():
            print(line)
        return 0
    c = LocalCluster.load(args.dir)
    for line in c.down(timeout_s=args.timeout):
        print(line)
    print(f"cluster in {args.dir} stopped")
    return 0
