"""Tools shell commands: flush, compact, major_compact, list_regions, split, merge_region.

Role: registered in the command table at import; called by ``Shell``.
The embedded backend flushes and compacts whole tables: a family argument is
accepted (HBase's ``flush 't1', 'cf'`` form) and the whole table is done, which
includes that family. ``split`` and ``merge_region`` go through ``Connection.admin()``. ``list_regions`` prints HBase's
``SERVER_NAME | REGION_NAME | START_KEY | END_KEY |`` layout
(hbase-shell shell/commands/list_regions.rb), without the size, request and
locality columns the embedded backend does not measure.
Concurrency: as ``Shell``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hedgerow.errors import HedgerowError
from hedgerow.shell.formatter import to_string_binary
from hedgerow.shell.registry import ShellArgumentError, as_name, command

if TYPE_CHECKING:
    from hedgerow.shell.session import Shell

__all__: list[str] = []


def _check_family(sh: Shell, table: str, args: list[Any]) -> None:
    if len(args) > 1 and args[1] is not None:
        fam = as_name(args[1], "column family name")
        if fam.encode() not in sh.connection.table(table).families():
            raise ShellArgumentError(
                f"Unknown column family '{fam}'! Valid column names: "
                + ", ".join(
                    f.decode() + ":*" for f in sorted(sh.connection.table(table).families())
                )
            )


@command(
    "flush",
    "tools",
    """Write a table's memstores to store files now.
  hbase> flush 't1'
  hbase> flush 't1', 'c1'   (the embedded backend flushes the whole table)""",
    1,
    2,
)
def _flush(sh: Shell, args: list[Any]) -> None:
    name = as_name(args[0])
    sh.require_table(name)
    _check_family(sh, name, args)
    sh.connection.flush_table(name)


def _compact(sh: Shell, args: list[Any], major: bool) -> None:
    name = as_name(args[0])
    sh.require_table(name)
    _check_family(sh, name, args)
    sh.connection.compact_table(name, major=major)


@command(
    "compact",
    "tools",
    """Compact a table's store files (a minor compaction).
  hbase> compact 't1'
  hbase> compact 't1', 'c1'   (the embedded backend compacts the whole table)""",
    1,
    2,
)
def _compact_cmd(sh: Shell, args: list[Any]) -> None:
    _compact(sh, args, major=False)


@command(
    "major_compact",
    "tools",
    """Rewrite all of a table's store files into one per family, dropping deleted and expired data.
  hbase> major_compact 't1'
  hbase> major_compact 't1', 'c1'   (the embedded backend compacts the whole table)""",
    1,
    2,
)
def _major_compact(sh: Shell, args: list[Any]) -> None:
    _compact(sh, args, major=True)


@command(
    "list_regions",
    "tools",
    """List a table's regions: server, region name, start and end key.
  hbase> list_regions 't1'""",
    1,
    2,
)
def _list_regions(sh: Shell, args: list[Any]) -> None:
    regions = sh.connection.table(as_name(args[0])).regions()
    header = ["SERVER_NAME", "REGION_NAME", "START_KEY", "END_KEY"]
    rows = [
        [
            r["server_name"].decode("latin-1"),
            to_string_binary(r["name"]),
            to_string_binary(r["start_key"]),
            to_string_binary(r["end_key"]),
        ]
        for r in regions
    ]
    widths = [max(len(x[i]) for x in [header, *rows]) for i in range(len(header))]
    f = sh.fmt
    f.line(" " + " | ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)) + " |")
    f.line(" " + " | ".join("-" * w for w in widths) + " |")
    for r in rows:
        f.line(" " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |")
    f.line(f" {len(rows)} rows")


def _unlisted_table(sh: Shell, name: str) -> bool:
    """True for a table that exists but ``list`` does not show (hbase:meta)."""
    try:
        sh.require_table(name)
    except HedgerowError:
        return False
    return True


def _find_region(sh: Shell, name: str) -> tuple[str, str] | None:
    """(table, encoded region id) for a full region name (``t,start,id``) or an encoded id."""
    encoded = name.rsplit(",", 1)[-1]
    for r in sh.connection.admin().status()["regions"]:
        if r["name"] == encoded:
            return str(r["table"]), encoded
    return None


@command(
    "split",
    "tools",
    """Split a table (its largest region, at the middle row) or a region, optionally at a key.
  hbase> split 't1'
  hbase> split 't1', 'splitKey'
  hbase> split 'REGION_NAME'
  hbase> split 'REGION_NAME', 'splitKey'""",
    1,
    2,
)
def _split(sh: Shell, args: list[Any]) -> None:
    target = as_name(args[0], "table or region name")
    key = None
    if len(args) > 1 and args[1] is not None:
        key = args[1].encode("latin-1") if isinstance(args[1], str) else args[1]
    admin = sh.connection.admin()
    if target.encode() in sh.connection.tables():
        admin.split(target, key)
        return
    found = _find_region(sh, target)
    if found is None:
        if _unlisted_table(sh, target):  # hbase:meta: the master refuses (ReservedName)
            admin.split(target, key)
            return
        raise ShellArgumentError(f"Unknown table or region {target}!")
    table, region = found
    if key is None:
        admin.split(table, region=region)
    else:
        admin.split(table, key)


@command(
    "merge_region",
    "tools",
    """Merge two adjacent regions (encoded names, or full names as list_regions shows them).
  hbase> merge_region 'ENCODED_REGIONNAME', 'ENCODED_REGIONNAME'
  hbase> merge_region 'ENCODED_REGIONNAME', 'ENCODED_REGIONNAME', true""",
    2,
    3,
)
def _merge_region(sh: Shell, args: list[Any]) -> None:
    name_a, name_b = as_name(args[0], "region name"), as_name(args[1], "region name")
    a, b = _find_region(sh, name_a), _find_region(sh, name_b)
    if a is None or b is None:
        raise ShellArgumentError(f"Unknown region {name_a if a is None else name_b}!")
    if a[0] != b[0]:
        raise ShellArgumentError("regions of different tables cannot be merged")
    sh.connection.admin().merge(a[0], a[1], b[1])
