"""DDL shell commands: create, alter, describe/desc, list, exists, enable/disable,
is_enabled/is_disabled, drop, truncate, truncate_preserve, enable_all/disable_all/drop_all.

Role: registered in the command table at import; called by ``Shell``. Argument
forms and messages follow hbase-shell shell/commands/<name>.rb and
hbase/admin.rb (e.g. ``Created table t1``, ``Table t1 does exist``,
``Table t1 is enabled. Disable it first.``, the ``Disable the above N tables
(y/n)?`` confirmation of disable_all.rb and drop_all.rb; list matches its
regex against the whole name, Java ``Pattern.matches``).
Concurrency: as ``Shell``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hedgerow.errors import InvalidArgument, TableDisabled, TableEnabled, TableNotFound
from hedgerow.shell.formatter import raw
from hedgerow.shell.registry import (
    ShellArgumentError,
    as_bytes,
    as_hash,
    as_name,
    command,
    opt_str,
)

if TYPE_CHECKING:
    from hedgerow.shell.session import Shell

__all__: list[str] = []

#: table attributes HBase has and the embedded backend does not (yet); refused, not ignored
_TABLE_ATTRS = (
    "MAX_FILESIZE",
    "READONLY",
    "MEMSTORE_FLUSHSIZE",
    "DURABILITY",
    "REGION_REPLICATION",
    "NUMREGIONS",
    "SPLITALGO",
    "METADATA",
    "CONFIGURATION",
    "OWNER",
)


def _family_spec(h: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    opts = {k: opt_str(v) for k, v in h.items() if k not in ("NAME", "METHOD")}
    return as_name(h["NAME"], "column family name").rstrip(":"), opts


def _table_attrs(h: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for k in h:
        if k not in allowed:
            if k in _TABLE_ATTRS:
                raise ShellArgumentError(f"table attribute {k} is not supported yet")
            raise ShellArgumentError(f"unknown argument {k} (a column family hash needs NAME)")


@command(
    "create",
    "ddl",
    """Create a table with column families (names or {NAME => ...} hashes) and optional split keys.
  hbase> create 't1', 'f1', 'f2', 'f3'
  hbase> create 't1', {NAME => 'f1', VERSIONS => 5, TTL => 86400}
  hbase> create 't1', {NAME => 'f1'}, {NAME => 'f2', BLOOMFILTER => 'ROWCOL'}
  hbase> create 't1', 'f1', SPLITS => ['10', '20', '30']
Family options: VERSIONS, MIN_VERSIONS, TTL (seconds), KEEP_DELETED_CELLS, BLOCKSIZE,
COMPRESSION ('NONE', 'LZ4', 'ZSTD'), BLOOMFILTER ('NONE', 'ROW', 'ROWCOL'), IN_MEMORY, BLOCKCACHE.""",
    1,
)
def _create(sh: Shell, args: list[Any]) -> None:
    name = as_name(args[0])
    families: dict[bytes | str, Mapping[str, Any] | None] = {}
    splits: list[bytes] | None = None
    for a in args[1:]:
        if isinstance(a, Mapping):
            h = as_hash(a, "argument")
            if "NAME" in h:
                fam, opts = _family_spec(h)
                families[fam] = opts
            else:
                _table_attrs(h, ("SPLITS",))
                if "SPLITS" in h:
                    if not isinstance(h["SPLITS"], list):
                        raise ShellArgumentError("SPLITS must be a list of keys: ['10', '20']")
                    splits = [as_bytes(k, "split key") for k in h["SPLITS"]]
        else:
            families[as_name(a, "column family name").rstrip(":")] = {}
    if not families:
        raise ShellArgumentError("a table needs at least one column family: create 't1', 'f1'")
    sh.connection.create_table(name, families, split_keys=splits)
    sh.fmt.line(f"Created table {name}")
    sh.fmt.result(raw(f"Hbase::Table - {name}"))


@command(
    "alter",
    "ddl",
    """Add, change or delete column families.
  hbase> alter 't1', NAME => 'f1', VERSIONS => 5
  hbase> alter 't1', 'f1', {NAME => 'f2', IN_MEMORY => true}, {NAME => 'f3', VERSIONS => 5}
  hbase> alter 't1', NAME => 'f1', METHOD => 'delete'
  hbase> alter 't1', 'delete' => 'f1'
A family given by name only is added with default settings if it is missing.""",
    2,
)
def _alter(sh: Shell, args: list[Any]) -> None:
    name = as_name(args[0])
    families: dict[bytes | str, Mapping[str, Any] | None] = {}
    delete: list[str] = []
    for a in args[1:]:
        if not isinstance(a, Mapping):
            families[as_name(a, "column family name").rstrip(":")] = None
            continue
        h = as_hash(a, "argument")
        if "delete" in h:
            delete.append(as_name(h.pop("delete"), "column family name"))
        method = opt_str(h.get("METHOD"))
        if method is not None and method != "delete":
            raise ShellArgumentError(f"METHOD => '{method}' is not supported (only 'delete')")
        if "NAME" in h:
            fam, opts = _family_spec(h)
            if method == "delete":
                delete.append(fam)
            else:
                families[fam] = opts
        elif h:
            _table_attrs(h, ())
    sh.require_table(name)
    sh.connection.alter_table(name, families=families, delete=delete)
    n = len(sh.connection.table(name).regions())
    sh.fmt.line("Updating all regions with the new schema...")
    sh.fmt.line(f"{n}/{n} regions updated.")
    sh.fmt.line("Done.")


def _ttl_text(seconds: int) -> str:
    """``86400 SECONDS (1 DAY)``, as HBase's PrettyPrinter shows TTLs."""
    if seconds >= 2**31 - 1:
        return "FOREVER"
    parts = []
    rest = seconds
    for unit, size in (("DAY", 86400), ("HOUR", 3600), ("MINUTE", 60), ("SECOND", 1)):
        n, rest = divmod(rest, size)
        if n:
            parts.append(f"{n} {unit}{'S' if n > 1 else ''}")
    text = f"{seconds} SECONDS"
    return text if seconds < 60 else f"{text} ({' '.join(parts)})"


def _describe_family(d: Mapping[str, Any]) -> str:
    fields = [
        ("NAME", d["name"].decode("utf-8", "replace")),
        ("BLOOMFILTER", d["bloom_filter_type"]),
        ("IN_MEMORY", str(d["in_memory"]).lower()),
        ("VERSIONS", str(d["max_versions"])),
        ("KEEP_DELETED_CELLS", str(d["keep_deleted_cells"]).upper()),
        ("COMPRESSION", d["compression"]),
        ("TTL", _ttl_text(d["time_to_live"])),
        ("MIN_VERSIONS", str(d["min_versions"])),
        ("BLOCKCACHE", str(d["block_cache_enabled"]).lower()),
        ("BLOCKSIZE", str(d["block_size"])),
    ]
    return "{" + ", ".join(f"{k} => '{v}'" for k, v in fields) + "}"


@command(
    "describe",
    "ddl",
    """Describe a table: its state and column families.
  hbase> describe 't1'
  hbase> desc 't1'""",
    1,
    1,
)
def _describe(sh: Shell, args: list[Any]) -> None:
    name = as_name(args[0])
    fams = sh.connection.table(name).families()
    state = "ENABLED" if sh.connection.is_table_enabled(name) else "DISABLED"
    f = sh.fmt
    f.line(f"Table {name} is {state}")
    f.line(name)
    f.header("COLUMN FAMILIES DESCRIPTION")
    for fam in sorted(fams):
        f.row(_describe_family(fams[fam]))
    f.rows_footer()


@command(
    "desc",
    "ddl",
    """Same as describe.
  hbase> desc 't1'""",
    1,
    1,
)
def _desc(sh: Shell, args: list[Any]) -> None:
    _describe(sh, args)


def _matching(sh: Shell, regex: str) -> list[str]:
    try:
        pat = re.compile(regex)
    except re.error as e:
        raise ShellArgumentError(f"bad regular expression {regex!r}: {e}") from None
    return [t for t in sh.table_names() if pat.fullmatch(t)]


@command(
    "list",
    "ddl",
    """List tables, optionally those whose whole name matches a regular expression.
  hbase> list
  hbase> list 'abc.*'
  hbase> list 'ns:.*'""",
    0,
    1,
)
def _list(sh: Shell, args: list[Any]) -> None:
    names = _matching(sh, as_name(args[0], "regex")) if args else sh.table_names()
    f = sh.fmt
    f.header("TABLE")
    for n in names:
        f.row(n)
    f.rows_footer()
    sh.fmt.result(names)


@command(
    "exists",
    "ddl",
    """Does the named table exist?
  hbase> exists 't1'""",
    1,
    1,
)
def _exists(sh: Shell, args: list[Any]) -> None:
    name = as_name(args[0])
    try:
        sh.require_table(name)  # hbase:meta exists, though list does not show it
        yes = True
    except (TableNotFound, InvalidArgument):
        yes = False
    sh.fmt.line(f"Table {name} {'does' if yes else 'does not'} exist")
    sh.fmt.result(yes)


def _enabled(sh: Shell, name: str) -> bool:
    sh.require_table(name)
    return sh.connection.is_table_enabled(name)


@command(
    "enable",
    "ddl",
    """Enable a disabled table.
  hbase> enable 't1'""",
    1,
    1,
)
def _enable(sh: Shell, args: list[Any]) -> None:
    # the master checks, reserved names (hbase:) first, then the state
    name = as_name(args[0])
    try:
        sh.connection.enable_table(name)
    except TableEnabled:
        raise ShellArgumentError(f"Table {name} is already enabled!") from None


@command(
    "disable",
    "ddl",
    """Disable a table (needed before drop).
  hbase> disable 't1'""",
    1,
    1,
)
def _disable(sh: Shell, args: list[Any]) -> None:
    name = as_name(args[0])
    try:
        sh.connection.disable_table(name)
    except TableDisabled:
        raise ShellArgumentError(f"Table {name} is already disabled!") from None


@command(
    "is_enabled",
    "ddl",
    """Is the table enabled?
  hbase> is_enabled 't1'""",
    1,
    1,
)
def _is_enabled(sh: Shell, args: list[Any]) -> None:
    yes = _enabled(sh, as_name(args[0]))
    sh.fmt.line(str(yes).lower())
    sh.fmt.result(yes)


@command(
    "is_disabled",
    "ddl",
    """Is the table disabled?
  hbase> is_disabled 't1'""",
    1,
    1,
)
def _is_disabled(sh: Shell, args: list[Any]) -> None:
    yes = not _enabled(sh, as_name(args[0]))
    sh.fmt.line(str(yes).lower())
    sh.fmt.result(yes)


@command(
    "drop",
    "ddl",
    """Delete a table and its data; disable it first.
  hbase> disable 't1'
  hbase> drop 't1'""",
    1,
    1,
)
def _drop(sh: Shell, args: list[Any]) -> None:
    name = as_name(args[0])
    try:
        sh.connection.delete_table(name)
    except TableEnabled:
        raise ShellArgumentError(f"Table {name} is enabled. Disable it first.") from None


def _truncate(sh: Shell, args: list[Any], preserve: bool) -> None:
    name = as_name(args[0])
    sh.require_table(name)
    sh.fmt.line(f"Truncating '{name}' table (it may take a while):")
    sh.fmt.line("Disabling table...")
    sh.fmt.line("Truncating table...")
    sh.connection.truncate_table(name, preserve_splits=preserve)


@command(
    "truncate",
    "ddl",
    """Delete every row of a table; its column families stay and it becomes one region.
  hbase> truncate 't1'""",
    1,
    1,
)
def _truncate_cmd(sh: Shell, args: list[Any]) -> None:
    _truncate(sh, args, preserve=False)


@command(
    "truncate_preserve",
    "ddl",
    """Delete every row of a table, keeping its column families and region boundaries.
  hbase> truncate_preserve 't1'""",
    1,
    1,
)
def _truncate_preserve(sh: Shell, args: list[Any]) -> None:
    _truncate(sh, args, preserve=True)


def _bulk(sh: Shell, args: list[Any], verb: str) -> None:
    regex = as_name(args[0], "regex")
    names = _matching(sh, regex)
    f = sh.fmt
    for n in names:
        f.line(n)
    if not names:
        f.line(f"No tables matched the regex {regex}")
        return
    answer = sh.ask(f"\n{verb.capitalize()} the above {len(names)} tables (y/n)?")
    if not answer.lower().startswith("y"):
        f.line("No updates are applied.")
        return
    failed = []
    for n in names:
        try:
            enabled = sh.connection.is_table_enabled(n)
            if verb == "disable" and enabled:
                sh.connection.disable_table(n)
            elif verb == "enable" and not enabled:
                sh.connection.enable_table(n)
            elif verb == "drop":
                if enabled:
                    raise ShellArgumentError("enabled")
                sh.connection.delete_table(n)
        except (ShellArgumentError, TableNotFound, Exception):
            failed.append(n)
    f.line(
        f"{len(names) - len(failed)} tables successfully {verb}{'d' if verb != 'drop' else 'ped'}"
    )
    if failed:
        f.line(
            f"{len(failed)} tables not {verb}{'d' if verb != 'drop' else 'ped'} due to an exception: {','.join(failed)}"
        )


@command(
    "disable_all",
    "ddl",
    """Disable every table whose name matches the regex, after a y/n confirmation.
  hbase> disable_all 't.*'""",
    1,
    1,
)
def _disable_all(sh: Shell, args: list[Any]) -> None:
    _bulk(sh, args, "disable")


@command(
    "enable_all",
    "ddl",
    """Enable every table whose name matches the regex, after a y/n confirmation.
  hbase> enable_all 't.*'""",
    1,
    1,
)
def _enable_all(sh: Shell, args: list[Any]) -> None:
    _bulk(sh, args, "enable")


@command(
    "drop_all",
    "ddl",
    """Drop every table whose name matches the regex (they must be disabled), after a y/n confirmation.
  hbase> drop_all 't.*'""",
    1,
    1,
)
def _drop_all(sh: Shell, args: list[Any]) -> None:
    _bulk(sh, args, "drop")
