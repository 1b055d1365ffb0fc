"""``hedgerow master``: run one master process of a cluster (active or backup).

Role: subcommand module discovered by ``hedgerow.cli.main``; runs
``hedgerow.server.cluster_master.MasterProcess`` until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
from typing import Any

from hedgerow.cli._process import add_process_parser, run_process

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
    add_process_parser(
        sub, "master", "run a master process of a cluster (ZooKeeper + shared root)", _HELP
    )


def run(args: argparse.Namespace) -> int:
    from hedgerow.server.cluster_master import MasterProcess

    return run_process(MasterProcess, args)
