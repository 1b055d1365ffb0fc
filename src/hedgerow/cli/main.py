"""The ``hedgerow`` command: one entry point, a subcommand per tool.

Role: console script (pyproject ``[project.scripts]``). Each subcommand lives in
``hedgerow/cli/<name>_cmd.py`` with ``add_parser(subparsers)`` and
``run(args) -> int``; its ``--help`` says what it does and shows an example.
Errors print one ``ERROR:`` line on standard error, never a traceback: bad usage
(argparse's complaints, ``hedgerow.cli.errors.UsageError``) exits 2; errors
from Hedgerow or the OS at run time exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from hedgerow.cli.errors import CommandFailed, UsageError
from hedgerow.errors import HedgerowError

__all__ = ["main"]

#: subcommand modules, in the order ``--help`` lists them
_COMMANDS = ("standalone", "master", "regionserver", "cluster", "shell", "thrift", "dump")

_DESCRIPTION = """\
Hedgerow: an HBase/Bigtable-class wide-column store.

Use it embedded from Python:
    import hedgerow
    conn = hedgerow.connect("./data")

or run one of the commands below (each has --help with an example).

examples:
  hedgerow shell ./data                      HBase shell syntax on a data directory
  hedgerow shell ./data -e "list"            one command, then exit
  hedgerow thrift --data ./data              serve happybase clients on 127.0.0.1:9090
  hedgerow dump catalog ./data               tables and regions of a data directory
"""


def _modules() -> dict[str, ModuleType]:
    mods: dict[str, ModuleType] = {}
    for name in _COMMANDS:
        modname = f"hedgerow.cli.{name}_cmd"
        try:
            mods[name] = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name != modname:  # a real missing dependency inside the module
                raise
    return mods


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one ``ERROR:`` line (subcommand parsers inherit it)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"ERROR: {self.prog}: {message} (see {self.prog} --help)\n")


def _parser(mods: dict[str, ModuleType]) -> argparse.ArgumentParser:
    p = _Parser(
        prog="hedgerow",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for mod in mods.values():
        mod.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    mods = _modules()
    parser = _parser(mods)
    args = parser.parse_args(argv)
    if args.version:
        from hedgerow import __version__

        print(f"hedgerow {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    try:
        rc: int = mods[args.command].run(args)
        return rc
    except UsageError as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 2
    except (CommandFailed, HedgerowError, OSError) as e:
        print(f"ERROR: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
