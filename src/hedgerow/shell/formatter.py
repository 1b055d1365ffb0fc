"""Output formatting for the shell, shaped like the HBase shell's console formatter.

Role: commands write through a ``Formatter``; it prints header and row lines,
counts rows, and escapes bytes the way HBase does.

Facts (hbase-shell/src/main/ruby/shell/formatter.rb, ``Formatter::Base``):
with no terminal width (output not a tty) a two-column row prints as one space,
column 1, one space, column 2; a header prints column 1, two spaces, column 2
(``ROW  COLUMN+CELL``). The row count line is ``N row(s)`` and each command
ends with ``Took %.4f seconds`` (shell/commands.rb ``command_safe``). Bytes are
shown as ``Bytes.toStringBinary`` does (hbase-common Bytes.java): letters,
digits and the punctuation `` `~!@#$%^&*()-_=+[]{}|;:'",.<>/?`` as themselves,
every other byte (including the backslash) as ``\\xNN`` in upper-case hex.
We always use the no-width layout, so output is the same in a terminal,
a pipe and a test.

Concurrency: not thread-safe (one per shell).
"""

from __future__ import annotations

from typing import TextIO

__all__ = ["Formatter", "ruby_inspect", "to_string_binary"]

_PRINTABLE = frozenset(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    b" `~!@#$%^&*()-_=+[]{}|;:'\",.<>/?"
)
_ESCAPED = [chr(b) if b in _PRINTABLE else f"\\x{b:02X}" for b in range(256)]


def to_string_binary(b: bytes) -> str:
    """Printable bytes as themselves, others as ``\\xNN`` (HBase ``Bytes.toStringBinary``).

    >>> to_string_binary(b"row\\x00\\xff\\\\1")
    'row\\\\x00\\\\xFF\\\\x5C1'
    """
    esc = _ESCAPED  # fast path: local lookup table
    return "".join(esc[c] for c in b)


def ruby_inspect(v: object) -> str:
    """A value as Ruby's ``inspect`` shows it (for ``=> ...`` result lines).

    >>> ruby_inspect(["t1", "t2"]), ruby_inspect(True), ruby_inspect(None)
    ('["t1", "t2"]', 'true', 'nil')
    """
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "nil"
    if isinstance(v, bytes):
        v = to_string_binary(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(ruby_inspect(x) for x in v) + "]"
    return str(v)


class Formatter:
    """Writes command output to a text stream and counts rows."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.row_count = 0
        #: the command's return value, printed as ``=> ...`` after its ``Took`` line
        self.pending: str | None = None

    def line(self, text: str = "") -> None:
        self.out.write(text + "\n")

    def header(self, col1: str, col2: str | None = None) -> None:
        self.line(col1 if col2 is None else f"{col1}  {col2}")
        self.row_count = 0

    def row(self, col1: str, col2: str | None = None) -> None:
        """One result row (counted); two columns are set off by single spaces."""
        self.line(col1 if col2 is None else f" {col1} {col2}")
        self.row_count += 1

    def rows_footer(self, count: int | None = None) -> None:
        self.line(f"{self.row_count if count is None else count} row(s)")

    def took(self, seconds: float) -> None:
        self.line(f"Took {seconds:.4f} seconds")

    def result(self, value: object) -> None:
        """Set the command's value: irb echoes it as ``=> value`` after ``Took``."""
        self.pending = "=> " + (value if isinstance(value, _Raw) else ruby_inspect(value))

    def finish(self, seconds: float | None) -> None:
        """End a command: ``Took`` (unless it failed), then its ``=>`` value."""
        pending, self.pending = self.pending, None
        if seconds is None:
            return
        self.took(seconds)
        if pending is not None:
            self.line(pending)


class _Raw(str):
    """A result already in display form (``Hbase::Table - t1``)."""


def raw(text: str) -> str:
    return _Raw(text)
