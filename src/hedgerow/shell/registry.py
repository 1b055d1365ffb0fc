"""The shell's command table and the helpers commands use to read their arguments.

Role: each command module (general, ddl, dml, tools) registers its commands
with ``@command``; ``Shell`` looks them up by name, checks the argument count
and calls them. ``CONSTANTS`` is the set of bare upper-case names the parser
accepts (HBase's ``HBaseConstants``, which are plain strings).
Invariants: command names are unique; every command has a usage text.
Concurrency: the table is filled at import time and read-only afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hedgerow.shell.session import Shell

__all__ = [
    "COMMANDS",
    "CONSTANTS",
    "GROUPS",
    "Command",
    "ShellArgumentError",
    "as_bytes",
    "as_hash",
    "as_int",
    "as_name",
    "as_str_list",
    "command",
    "opt_str",
]

#: bare names the parser turns into strings (hbase-shell HBaseConstants, the subset we use)
CONSTANTS = frozenset(
    {
        "NAME",
        "VERSIONS",
        "MIN_VERSIONS",
        "TTL",
        "BLOCKCACHE",
        "BLOCKSIZE",
        "BLOOMFILTER",
        "COMPRESSION",
        "IN_MEMORY",
        "KEEP_DELETED_CELLS",
        "METHOD",
        "SPLITS",
        "NUMREGIONS",
        "SPLITALGO",
        "METADATA",
        "CONFIGURATION",
        "COLUMN",
        "COLUMNS",
        "TIMESTAMP",
        "TIMERANGE",
        "FILTER",
        "STARTROW",
        "STOPROW",
        "ROWPREFIXFILTER",
        "LIMIT",
        "REVERSED",
        "RAW",
        "CACHE",
        "CACHE_BLOCKS",
        "INTERVAL",
        "ATTRIBUTES",
        "MAXLENGTH",
        "FORMATTER",
        "FORMAT",
        "MAX_FILESIZE",
        "READONLY",
        "MEMSTORE_FLUSHSIZE",
        "DURABILITY",
        "REGION_REPLICATION",
        "OWNER",
    }
)

#: help groups in the order ``help`` lists them (hbase-shell shell.rb)
GROUPS = ("general", "ddl", "dml", "tools")


class ShellArgumentError(Exception):
    """A command got arguments it cannot use; the message is shown as ``ERROR: ...``."""


@dataclass(frozen=True)
class Command:
    name: str
    group: str
    usage: str
    min_args: int
    max_args: int | None
    fn: Callable[[Shell, list[Any]], None]

    @property
    def summary(self) -> str:
        return self.usage.strip().splitlines()[0]


COMMANDS: dict[str, Command] = {}


def command(
    name: str, group: str, usage: str, min_args: int = 0, max_args: int | None = None
) -> Callable[[Callable[[Shell, list[Any]], None]], Callable[[Shell, list[Any]], None]]:
    """Register ``fn`` as shell command ``name`` (``usage``: first line a summary)."""

    def deco(fn: Callable[[Shell, list[Any]], None]) -> Callable[[Shell, list[Any]], None]:
        if name in COMMANDS:
            raise RuntimeError(f"shell command {name!r} registered twice")
        COMMANDS[name] = Command(name, group, usage, min_args, max_args, fn)
        return fn

    return deco


# ---- argument helpers -------------------------------------------------------------
def as_bytes(v: Any, what: str) -> bytes:
    """A row key, column or value: strings as bytes; numbers as their text (Ruby ``to_s``)."""
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, bool) or v is None:
        raise ShellArgumentError(f"{what} must be a string, got {_ruby(v)}")
    if isinstance(v, int | float):
        return str(v).encode("ascii")
    raise ShellArgumentError(f"{what} must be a string, got {_ruby(v)}")


def as_name(v: Any, what: str = "table name") -> str:
    """A table or family name as text."""
    if isinstance(v, bytes):
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            raise ShellArgumentError(f"{what} must be valid UTF-8") from None
    if isinstance(v, str):
        return v
    raise ShellArgumentError(f"{what} must be a string, got {_ruby(v)}")


def opt_str(v: Any) -> Any:
    """Option values: strings become ``str`` so descriptors can parse '3' or 'true'."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "surrogateescape")
    return v


def as_int(v: Any, what: str, minimum: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        if isinstance(v, bytes) and v.strip().lstrip(b"-").isdigit():
            v = int(v)
        else:
            raise ShellArgumentError(f"{what} must be an integer, got {_ruby(v)}")
    if minimum is not None and v < minimum:
        raise ShellArgumentError(f"{what} must be >= {minimum}, got {v}")
    return int(v)


def as_hash(v: Any, what: str) -> dict[str, Any]:
    if not isinstance(v, Mapping):
        raise ShellArgumentError(f"{what} must be a hash like {{KEY => value}}, got {_ruby(v)}")
    return {str(k): x for k, x in v.items()}


def as_str_list(v: Any, what: str) -> list[bytes]:
    """A string or a list of strings."""
    if isinstance(v, list):
        return [as_bytes(x, what) for x in v]
    return [as_bytes(v, what)]


def _ruby(v: Any) -> str:
    from hedgerow.shell.formatter import ruby_inspect

    if isinstance(v, dict):
        return "a hash"
    return ruby_inspect(v)
