"""The meta table (``hbase:meta``): one row per region, stored as a Hedgerow table.

Role: the master keeps its region map here (HBase's ``hbase:meta``): which
regions each table has, which server hosts each and whether it is open. It
lives in a single region of its own, hosted by the region server like any
other; table descriptors and enabled state stay in the small
catalog file (docs/formats/catalog.md), as HBase keeps table descriptors
outside meta. Every change of a table's region list (create, split, merge,
truncate, delete) is ONE mutation batch of the meta region: one sequence
number, one WAL record written with FSYNC_WAL, visible all at once. That
batch is the commit point of the procedure (docs/design/region-lifecycle.md).
Format: docs/formats/meta.md (authoritative). Summary::

    row  := table_name "," start_key "," region_name      (table names never hold ",")
    info:regioninfo := msgpack {"table": str, "name": str, "start_key": bin, "end_key": bin}
    info:state      := b"OPEN" | b"CLOSED" (a disabled table's regions are not assigned)
    info:server     := b"<host>:<port>" of the hosting server (b"local" when embedded;
                       b"" while CLOSED)
    row b"\\x00hedgerow,next_region_id", column info:value := u64 big-endian

Reserved names: the ``hbase`` namespace (``RESERVED_NAMESPACES``) holds the
tables Hedgerow maintains itself, as HBase reserves it for its system tables.
``refuse_reserved`` is the one check: the master calls it before every DDL and
region procedure, the region server before every write, so every interface
(embedded, RPC, asyncio, Thrift, shell) refuses them with ``ReservedName``.
After a change, meta is flushed at once (the WAL stays short) and the region
server is told (``after_flush``), which compacts meta like any region.
Invariants: the rows of a table tile its key space; region names are never
reused (the next free id is written in the same batch that uses ids); no
catalog table is in a reserved namespace (tables/ holds meta's directory).
Concurrency: the master calls it under its DDL lock; reads and writes go
through the meta Region, which is thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgpack

from hedgerow._internal import failpoints
from hedgerow.errors import CorruptionError, FormatVersionError, ReservedName
from hedgerow.model.durability import Durability
from hedgerow.model.mutation import DeleteRow, Put, RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor
from hedgerow.region.region import Region

__all__ = [
    "META_DESCRIPTOR",
    "META_REGION",
    "META_TABLE",
    "CLOSED",
    "CLOSING",
    "MERGING",
    "META_VERSION",
    "OFFLINE",
    "OPEN",
    "OPENING",
    "REGION_STATES",
    "SPLITTING",
    "RESERVED_NAMESPACES",
    "MetaRegion",
    "MetaTable",
    "is_reserved",
    "refuse_reserved",
]

META_TABLE = "hbase:meta"
#: the meta table's single region; never split
META_REGION = "0000000000"
META_DESCRIPTOR = TableDescriptor(
    META_TABLE,
    {b"info": ColumnFamilyDescriptor(b"info", max_versions=3, in_memory=True, block_size=8192)},
)
_INFO = b"info"
_COUNTER_ROW = b"\x00hedgerow,next_region_id"
_VERSION_ROW = b"\x00hedgerow,meta_version"
#: 2: info:state takes every region state below, info:target and info:proc are added
#: (version 1, no version row, knew only OPEN and CLOSED)
META_VERSION = 2
#: region states recorded in ``info:state`` (HBase's RegionState.State, the subset a
#: Hedgerow procedure goes through)
OFFLINE = "OFFLINE"
OPENING = "OPENING"
OPEN = "OPEN"
CLOSING = "CLOSING"
CLOSED = "CLOSED"
SPLITTING = "SPLITTING"
MERGING = "MERGING"
REGION_STATES = frozenset({OFFLINE, OPENING, OPEN, CLOSING, CLOSED, SPLITTING, MERGING})
#: namespaces of the tables Hedgerow maintains itself (HBase's system namespace, home of
#: hbase:meta). Matched ignoring case: a table's directory is named after the table, and
#: "HBase:meta" and "hbase:meta" are one directory on a case-insensitive file system.
RESERVED_NAMESPACES = frozenset({"hbase"})


def is_reserved(table: str) -> bool:
    """True if ``table`` is in a reserved namespace (clients may read it, never change it).

    >>> is_reserved("hbase:meta"), is_reserved("HBASE:x"), is_reserved("hbase"), is_reserved("t")
    (True, True, False, False)
    """
    ns, sep, _ = table.partition(":") if isinstance(table, str) else ("", "", "")
    return bool(sep) and ns.lower() in RESERVED_NAMESPACES


def refuse_reserved(table: str, action: str) -> None:
    """Raise ReservedName naming ``table`` and the rule if it is reserved (``action``: what
    the caller asked, e.g. "delete")."""
    if is_reserved(table):
        ns = table.partition(":")[0]
        raise ReservedName(
            f"cannot {action} table {table!r}: the namespace {ns!r} is reserved for the "
            f"tables Hedgerow maintains itself (such as {META_TABLE}); clients may only "
            "read them"
        )


class MetaRegion:
    """A region of a table, as meta records it."""

    __slots__ = ("table", "name", "start_key", "end_key", "server", "state", "target", "proc")

    def __init__(
        self,
        table: str,
        name: str,
        start_key: bytes,
        end_key: bytes,
        server: str | None = None,
        state: str = OPEN,
        target: str = "",
        proc: dict[str, Any] | None = None,
    ) -> None:
        self.table = table
        self.name = name
        self.start_key = start_key
        self.end_key = end_key
        #: the hosting server as meta records it (None: the writer's own server)
        self.server = server
        self.state = state
        #: the server an in-flight transition moves the region to ("" when none)
        self.target = target
        #: the in-flight assignment procedure's persisted step (engine/assignment.py)
        self.proc = proc

    def row(self) -> bytes:
        return self.table.encode() + b"," + self.start_key + b"," + self.name.encode()

    def to_mutation(self, server: str) -> RowMutation:
        info = msgpack.packb(
            {
                "table": self.table,
                "name": self.name,
                "start_key": self.start_key,
                "end_key": self.end_key,
            },
            use_bin_type=True,
        )
        return RowMutation(
            self.row(),
            (
                Put(_INFO, b"regioninfo", info),
                Put(
                    _INFO, b"server", (self.server if self.server is not None else server).encode()
                ),
                Put(_INFO, b"state", self.state.encode()),
                Put(_INFO, b"target", self.target.encode()),
                Put(_INFO, b"proc", _pack_proc(self.proc)),
            ),
        )

    def __repr__(self) -> str:
        return f"MetaRegion({self.table!r}, {self.name!r}, {self.start_key!r}, {self.end_key!r})"


class MetaTable:
    """Reads and writes the region map kept in the meta region."""

    def __init__(
        self,
        region: Region,
        server: str = "local",
        after_flush: Callable[[Region], None] | None = None,
    ) -> None:
        self.region = region
        self.server = server
        #: told after each flush of meta (the region server compacts it when due)
        self._after_flush = after_flush

    def _flush(self) -> None:
        # keep the WAL short: meta changes are few and small, flush them at once; every
        # flush adds a store file, so meta is compacted like any region (issue 11,
        # finding 4: it was not, and its files stayed open until the process ran out)
        if self.region.flush() and self._after_flush is not None:
            self._after_flush(self.region)

    def load(self) -> tuple[dict[str, list[MetaRegion]], int]:
        """Every table's regions sorted by start key, and the next free region id."""
        tables: dict[str, list[MetaRegion]] = {}
        next_id = 0
        cols = [b"regioninfo", b"value", b"server", b"state", b"target", b"proc"]
        spec = ReadSpec(columns={_INFO: frozenset(cols)})
        for row, cells in self.region.scan(ScanRange(), spec):
            values = {c.qualifier: c.value for c in cells}
            if row == _VERSION_ROW:
                version = int.from_bytes(values.get(b"value", b""), "big")
                if version > META_VERSION:
                    raise FormatVersionError(
                        f"hbase:meta format version {version} is not supported (this build "
                        f"reads versions 1 and {META_VERSION})"
                    )
                continue
            if row == _COUNTER_ROW:
                next_id = int.from_bytes(values.get(b"value", b"\x00" * 8), "big")
                continue
            raw = values.get(b"regioninfo")
            if raw is None:
                continue
            try:
                d: Any = msgpack.unpackb(raw, raw=False)
                r = MetaRegion(
                    str(d["table"]),
                    str(d["name"]),
                    bytes(d["start_key"]),
                    bytes(d["end_key"]),
                    values.get(b"server", b"").decode("utf-8", "replace"),
                    values.get(b"state", OPEN.encode()).decode("utf-8", "replace"),
                    values.get(b"target", b"").decode("utf-8", "replace"),
                    _unpack_proc(values.get(b"proc", b"")),
                )
                if r.state not in REGION_STATES:
                    raise ValueError(f"unknown region state {r.state!r}")
            except Exception as e:
                raise CorruptionError(f"meta row {row!r} is unreadable: {e}") from None
            tables.setdefault(r.table, []).append(r)
        for regions in tables.values():
            regions.sort(key=lambda r: r.start_key)
        return tables, next_id

    def write(
        self,
        add: Iterable[MetaRegion] = (),
        remove: Iterable[MetaRegion] = (),
        next_region_id: int | None = None,
    ) -> None:
        """Replace regions in one atomic, fsync'ed batch (the procedure's commit point)."""
        muts = [RowMutation(r.row(), (DeleteRow(),)) for r in remove]
        muts += [r.to_mutation(self.server) for r in add]
        if next_region_id is not None:
            muts.append(
                RowMutation(
                    _COUNTER_ROW, (Put(_INFO, b"value", next_region_id.to_bytes(8, "big")),)
                )
            )
        if muts:
            failpoints.hit("engine.meta.before_write")
            self.region.mutate(muts, Durability.FSYNC_WAL)
            failpoints.hit("engine.meta.after_write")
            self._flush()

    def write_version(self) -> None:
        """Record META_VERSION (an upgrade from version 1 writes it once)."""
        spec = ReadSpec(columns={_INFO: frozenset([b"value"])})
        for row, cells in self.region.scan(
            ScanRange(start=_VERSION_ROW, stop=_VERSION_ROW + b"\x00"), spec
        ):
            if (
                row == _VERSION_ROW
                and cells
                and int.from_bytes(cells[0].value, "big") == (META_VERSION)
            ):
                return
        self.region.mutate(
            [RowMutation(_VERSION_ROW, (Put(_INFO, b"value", META_VERSION.to_bytes(4, "big")),))],
            Durability.FSYNC_WAL,
        )
        self._flush()

    def transition(
        self,
        region: MetaRegion,
        state: str,
        server: str,
        target: str = "",
        proc: dict[str, Any] | None = None,
    ) -> None:
        """Persist one step of an assignment procedure for ``region`` (one fsync'ed row
        write): its state, server, target server and the procedure's step (None: no
        procedure in flight). Updates ``region`` to match."""
        if state not in REGION_STATES:
            raise ValueError(f"unknown region state {state!r}")
        mut = RowMutation(
            region.row(),
            (
                Put(_INFO, b"state", state.encode()),
                Put(_INFO, b"server", server.encode()),
                Put(_INFO, b"target", target.encode()),
                Put(_INFO, b"proc", _pack_proc(proc)),
            ),
        )
        failpoints.hit("engine.meta.before_write")
        self.region.mutate([mut], Durability.FSYNC_WAL)
        region.state, region.server, region.target, region.proc = state, server, target, proc
        self._flush()

    def assign(self, regions: Iterable[MetaRegion], server: str, state: str = OPEN) -> int:
        """Record where regions are served (or that they are CLOSED, with no server) in
        one fsync'ed batch; rows that already say so are not rewritten. Returns how many
        rows changed."""
        muts = [
            RowMutation(
                r.row(),
                (
                    Put(_INFO, b"server", server.encode()),
                    Put(_INFO, b"state", state.encode()),
                    Put(_INFO, b"target", b""),
                    Put(_INFO, b"proc", b""),
                ),
            )
            for r in regions
            if r.server != server or r.state != state or r.target or r.proc is not None
        ]
        if muts:
            self.region.mutate(muts, Durability.FSYNC_WAL)
            self._flush()
        return len(muts)


def _pack_proc(proc: dict[str, Any] | None) -> bytes:
    return b"" if proc is None else bytes(msgpack.packb(proc, use_bin_type=True))


def _unpack_proc(raw: bytes) -> dict[str, Any] | None:
    if not raw:
        return None
    d = msgpack.unpackb(raw, raw=False)
    if not isinstance(d, dict):
        raise ValueError("info:proc is not a map")
    return d
