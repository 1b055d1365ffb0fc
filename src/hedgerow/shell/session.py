"""A shell session: parse input, run commands against a Connection, print like HBase.

Role: ``hedgerow shell`` (cli/shell_cmd.py) and the tests create a ``Shell``
over a ``hedgerow.Connection`` and feed it text; the interactive front end
(shell/interactive.py) adds line editing. Uses the public client API only.

Errors: every failure prints one ``ERROR: ...`` line (HBase's wording where it
has one, e.g. ``Unknown table t!``, from hbase-shell shell/commands.rb
``translate_hbase_exceptions``) and ``execute`` returns False; the caller
decides whether to go on (interactive, tests) or stop (scripts).

Concurrency: not thread-safe; one session per thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from hedgerow._internal.clock import SystemClock
from hedgerow.client import Connection
from hedgerow.errors import (
    FamilyNotFound,
    FilterSyntaxError,
    HedgerowError,
    TableDisabled,
    TableExists,
    TableNotFound,
)
from hedgerow.shell import cluster, ddl, dml, general, tools  # noqa: F401  (register commands)
from hedgerow.shell.formatter import Formatter
from hedgerow.shell.parser import Call, ShellSyntaxError, UnknownConstant, is_complete, parse
from hedgerow.shell.registry import COMMANDS, CONSTANTS, ShellArgumentError, as_name

__all__ = ["Shell", "ShellExit"]

_SYSTEM_CLOCK = SystemClock()


class ShellExit(Exception):
    """Raised by ``exit``/``quit`` to end the session."""


class Shell:
    """One session. Methods: ``execute(text)`` runs complete input; ``run_lines(lines)``
    reads commands line by line (multi-line commands included) as a script does.

    >>> import hedgerow, io, tempfile
    >>> out = io.StringIO()
    >>> sh = Shell(hedgerow.connect(tempfile.mkdtemp()), out, clock=lambda: 0.0)
    >>> sh.execute("create 't', 'cf'") and sh.execute("put 't', 'r1', 'cf:a', 'v'")
    True
    >>> print(out.getvalue(), end="")
    Created table t
    Took 0.0000 seconds
    => Hbase::Table - t
    Took 0.0000 seconds
    >>> sh.connection.close()
    """

    def __init__(
        self,
        connection: Connection,
        out: TextIO,
        err: TextIO | None = None,
        *,
        target: str = "",
        interactive: bool = False,
        clock: Callable[[], float] = _SYSTEM_CLOCK.monotonic_s,
        identity: tuple[str, list[str]] | None = None,
        ask: Callable[[str], str | None] | None = None,
    ) -> None:
        # constant after __init__
        self.connection = connection
        self.fmt = Formatter(out)
        self.err = err if err is not None else out
        self.target = target
        self.interactive = interactive
        self.clock = clock
        self.identity = identity
        self._ask = ask
        # the line source of run_lines: confirmations read their answer from it
        self._lines: Iterator[str] | None = None

    # ---- input -----------------------------------------------------------------------
    def run_lines(self, lines: Iterable[str], stop_on_error: bool = True) -> int:
        """Run commands from ``lines``; returns 0, or 1 after the first error (if stopping).

        Lines are joined until a command is complete (open quotes or brackets, or a
        trailing ``,`` or ``=>``, continue it). ``exit`` ends the run with 0.
        """
        it = iter(lines)
        self._lines = it
        buf = ""
        rc = 0
        try:
            for line in it:
                buf += line.rstrip("\n") + "\n"
                if not is_complete(buf):
                    continue
                text, buf = buf, ""
                if not self.execute(text):
                    rc = 1
                    if stop_on_error:
                        return 1
            if buf.strip() and not self.execute(buf):
                rc = 1
        except ShellExit:
            pass
        finally:
            self._lines = None
        return rc

    def ask(self, question: str) -> str:
        """Ask a yes/no question; the answer comes from the next input line (or the prompt)."""
        self.fmt.line(question)
        if self._ask is not None:
            answer = self._ask(question)
        elif self._lines is not None:
            answer = next(self._lines, None)
        else:
            answer = None
        return (answer or "").strip()

    # ---- running ---------------------------------------------------------------------
    def execute(self, text: str) -> bool:
        """Parse ``text`` and run each command in it; False after the first error.

        ``ShellExit`` propagates for ``exit``/``quit``.
        """
        try:
            calls = parse(text, CONSTANTS)
        except ShellSyntaxError as e:
            return self._error(str(e))
        except UnknownConstant as e:
            return self._error(f"{e} (HBase shell constants are upper-case names like VERSIONS)")
        return all(self.run_call(call) for call in calls)  # stops at the first failure

    def run_call(self, call: Call) -> bool:
        cmd = COMMANDS.get(call.name)
        if cmd is None:
            if call.name in ("exit", "quit"):
                raise ShellExit()
            return self._error(f"Unknown command '{call.name}'. Try 'help'.")
        n = len(call.args)
        if n < cmd.min_args or (cmd.max_args is not None and n > cmd.max_args):
            want = (
                f"{cmd.min_args}"
                if cmd.max_args == cmd.min_args
                else f"{cmd.min_args}+"
                if cmd.max_args is None
                else f"{cmd.min_args}..{cmd.max_args}"
            )
            return self._error(
                f"wrong number of arguments for '{cmd.name}' (given {n}, expected {want}); "
                f"usage: {cmd.summary}"
            )
        start = self.clock()
        try:
            cmd.fn(self, call.args)
        except ShellExit:
            raise
        except Exception as e:  # every failure becomes one line; the session goes on
            self.fmt.finish(None)
            return self._error(self._message(e, call))
        self.fmt.finish(self.clock() - start)
        return True

    def _error(self, message: str) -> bool:
        self.err.write(f"ERROR: {message}\n")
        self.err.flush()
        return False

    def _message(self, e: Exception, call: Call) -> str:
        table = _first_name(call)
        if isinstance(e, ShellArgumentError):
            return str(e)
        if isinstance(e, TableNotFound):
            return f"Unknown table {table}!"
        if isinstance(e, TableExists):
            return f"Table already exists: {table}!"
        if isinstance(e, TableDisabled):
            return f"Table {table} is disabled! Enable it with: enable '{table}'"
        if isinstance(e, FamilyNotFound):
            m = re.search(r"column family '([^']*)'", str(e))
            fam = f" '{m.group(1)}'" if m else ""
            return f"Unknown column family{fam}! Valid column names: {self._valid_columns(table)}"
        if isinstance(e, FilterSyntaxError):
            return f"Incorrect filter string: {e}"
        if isinstance(e, HedgerowError):
            return str(e)
        return f"{type(e).__name__}: {e}"

    def _valid_columns(self, table: str | None) -> str:
        try:
            fams = self.connection.table(table or "").families()
        except Exception:
            return "(unknown)"
        return ", ".join(f.decode("utf-8", "replace") + ":*" for f in sorted(fams))

    # ---- helpers for commands ------------------------------------------------------
    def table_names(self) -> list[str]:
        return sorted(n.decode("utf-8") for n in self.connection.tables())

    def require_table(self, name: str) -> None:
        """Raise TableNotFound unless ``name`` exists (for commands that would not notice).

        hbase:meta is not listed but exists: commands on it reach the server, which
        reads it and refuses to change it (ReservedName).
        """
        if name not in self.table_names():
            self.connection.table(name).families()  # TableNotFound unless it exists


def _first_name(call: Call) -> str | None:
    if call.args and isinstance(call.args[0], bytes | str):
        try:
            return as_name(call.args[0])
        except ShellArgumentError:
            return None
    return None


def command_names() -> list[str]:
    """Every command name (for completion)."""
    return sorted([*COMMANDS, "exit", "quit"])
