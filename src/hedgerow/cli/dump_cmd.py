"""``hedgerow dump``: the subcommand wiring for hedgerow.cli.dump."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_parser", "run"]

_HELP = """\
Print the records of one Hedgerow file, for debugging. Reads only.

kinds:
  wal        a write-ahead log file        (DATA/WALs/rs0/000000000001.log)
  storefile  an immutable store file       (DATA/tables/T/REGION/FAMILY/000000000007.sst)
  manifest   a region's manifest state     (DATA/tables/T/REGION)
  catalog    the tables and their regions  (DATA or DATA/CATALOG)
  meta       the region map (hbase:meta)    (DATA)

examples:
  hedgerow dump wal ./data/WALs/rs0/000000000001.log
  hedgerow dump storefile --no-values ./data/tables/t/0000000001/cf/000000000003.sst
  hedgerow dump catalog ./data
"""


def add_parser(sub: Any) -> None:
    d = sub.add_parser(
        "dump",
        help="print the records of a WAL, store file, manifest, catalog or meta",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument(
        "kind", choices=["wal", "storefile", "sstable", "hfile", "manifest", "catalog", "meta"]
    )
    d.add_argument("path", help="the file (or directory for manifest and catalog)")
    d.add_argument("--no-values", action="store_true", help="print value sizes, not values")


def run(args: argparse.Namespace) -> int:
    from hedgerow.cli.dump import dump_path

    dump_path(args.kind, args.path, sys.stdout, values=not args.no_values)
    return 0
