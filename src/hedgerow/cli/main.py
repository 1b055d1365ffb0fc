"""The ``hedgerow`` command: one entry point, a subcommand per tool.

Role: console script (pyproject ``[project.scripts]``). Each subcommand's
``--help`` says what it does and shows an example.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hedgerow.errors import HedgerowError

__all__ = ["main"]

_DESCRIPTION = """\
Hedgerow: an HBase/Bigtable-class wide-column store.

Use it embedded from Python:
    import hedgerow
    conn = hedgerow.connect("./data")

or inspect a data directory with the tools below.
"""

_DUMP_HELP = """\
Print the records of one Hedgerow file, for debugging. Reads only.

kinds:
  wal        a write-ahead log file        (DATA/wal/000000000001.log)
  storefile  an immutable store file       (DATA/tables/T/REGION/FAMILY/000000000007.sst)
  manifest   a region's manifest state     (DATA/tables/T/REGION)
  catalog    the tables and their regions  (DATA or DATA/CATALOG)

examples:
  hedgerow dump wal ./data/wal/000000000001.log
  hedgerow dump storefile --no-values ./data/tables/t/0000000001/cf/000000000003.sst
  hedgerow dump catalog ./data
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hedgerow",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    d = sub.add_parser(
        "dump",
        help="print the records of a WAL, store file, manifest or catalog",
        description=_DUMP_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("kind", choices=["wal", "storefile", "sstable", "hfile", "manifest", "catalog"])
    d.add_argument("path", help="the file (or directory for manifest and catalog)")
    d.add_argument("--no-values", action="store_true", help="print value sizes, not values")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.version:
        from hedgerow import __version__

        print(f"hedgerow {__version__}")
        return 0
    if args.command is None:
        _parser().print_help()
        return 2
    try:
        if args.command == "dump":
            from hedgerow.cli.dump import dump_path

            dump_path(args.kind, args.path, sys.stdout, values=not args.no_values)
            return 0
    except (HedgerowError, OSError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # pragma: no cover - e.g. | head
        return 0
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
