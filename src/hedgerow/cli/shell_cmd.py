"""``hedgerow shell``: the subcommand wiring for hedgerow.shell.

Role: opens the store with ``hedgerow.connect`` and runs a ``Shell`` over
it: interactively in a terminal, or non-interactively from ``-e``, a script
file or standard input, stopping with exit status 1 at the first error.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from hedgerow.cli.errors import is_server_target

__all__ = ["add_parser", "run"]

_HELP = """\
Run HBase shell commands against a Hedgerow store: a data directory
(embedded; created if missing) or a server, hedgerow://host:port (hedgerow
standalone serves one; scripts/run starts it on hedgerow://127.0.0.1:16000).

In a terminal the shell is interactive: history (up arrow), Tab completion
of commands and table names, and commands that go on over several lines while
a quote or bracket is open. With -e, a script file, or commands piped on
standard input it runs them in order and stops with exit status 1 at the first
error. Type 'help' in the shell for the commands.

examples:
  hedgerow shell ./data
  hedgerow shell ./data -e "create 't1', 'cf'" -e "put 't1', 'r1', 'cf:a', 'v1'" -e "scan 't1'"
  echo "scan 't1', {LIMIT => 10}" | hedgerow shell ./data
  hedgerow shell ./data commands.txt
  hedgerow shell hedgerow://127.0.0.1:16000 -e "list"
"""


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "shell",
        help="HBase shell commands against a store, e.g. hedgerow shell ./data",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "target",
        nargs="?",
        default="./data",
        metavar="DIR | hedgerow://host:port",
        help="data directory (default ./data) or server URL",
    )
    p.add_argument("script", nargs="?", help="a file of commands to run (then exit)")
    p.add_argument(
        "-e",
        "--execute",
        action="append",
        metavar="COMMANDS",
        help="run these commands (repeatable; one per line) and exit",
    )


def run(args: argparse.Namespace) -> int:
    import hedgerow
    from hedgerow.shell import Shell

    target, script = args.target, args.script
    if script is None and os.path.isfile(target):  # `hedgerow shell script.txt`
        target, script = "./data", target
    is_server_target(target, "hedgerow shell")  # a mistyped scheme: usage error, nothing made
    conn = hedgerow.connect(target)
    try:
        if args.execute:
            lines = "\n".join(args.execute).splitlines()
            return _run_batch(Shell(conn, sys.stdout, sys.stderr, target=target), lines)
        if script is not None:
            with open(script, encoding="utf-8") as f:
                return _run_batch(Shell(conn, sys.stdout, sys.stderr, target=target), f)
        if not sys.stdin.isatty() or not sys.stdout.isatty():
            return _run_batch(Shell(conn, sys.stdout, sys.stderr, target=target), sys.stdin)
        from prompt_toolkit import prompt

        from hedgerow.shell.interactive import run_interactive

        shell = Shell(conn, sys.stdout, target=target, interactive=True, ask=lambda q: prompt(""))
        return run_interactive(shell)
    finally:
        conn.close()


def _run_batch(shell: Any, lines: Any) -> int:
    rc: int = shell.run_lines(lines, stop_on_error=True)
    sys.stdout.flush()
    return rc
