"""Connection and AsyncConnection: tables and administration, shaped like happybase's.

Role: the objects ``hedgerow.connect`` and ``hedgerow.aio.connect`` return; they
hand out tables and do DDL through a backend (client/backend.py).  Each method is
written once, as a plan (client/plan.py), and bound to both flavours.
Invariants: after ``close`` every call raises ClosedError.
Concurrency: ``Connection`` is thread-safe (the backend is); ``AsyncConnection``
belongs to one event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, NoReturn, Protocol, TypeVar

from hedgerow.client.admin import Admin, AsyncAdmin
from hedgerow.client.backend import AsyncBackend, Backend
from hedgerow.client.plan import Awaiting, Blocking, Plan, call, making, method
from hedgerow.client.table import AsyncTable, Table
from hedgerow.errors import ClosedError, FamilyNotFound, InvalidArgument
from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor, validate_table_name
from hedgerow.rpc.operations import Operations as Ops

__all__ = ["AsyncConnection", "Connection"]


def _name(name: bytes | str) -> str:
    if isinstance(name, bytes):
        try:
            name = name.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgument(f"table name {name!r} is not valid UTF-8") from None
    if not isinstance(name, str):
        raise InvalidArgument(f"table name must be str or bytes, got {type(name).__name__}")
    return name


class TablePrefix:
    """Table names with happybase's ``table_prefix`` (shared by both connection flavours)."""

    table_prefix: str | None
    table_prefix_separator: str

    def _set_prefix(self, prefix: bytes | str | None, separator: bytes | str) -> None:
        self.table_prefix = None if prefix is None else _name(prefix)
        self.table_prefix_separator = _name(separator)

    def _full(self, name: bytes | str, use_prefix: bool = True) -> str:
        n = _name(name)
        if use_prefix and self.table_prefix is not None:
            n = self.table_prefix + self.table_prefix_separator + n
        return validate_table_name(n)

    def _listed(self, names: list[str]) -> list[bytes]:
        """Backend table names -> ``tables()``'s answer: bytes, prefix removed, others left out."""
        if self.table_prefix is not None:
            p = self.table_prefix + self.table_prefix_separator
            names = [n[len(p) :] for n in names if n.startswith(p)]
        return [n.encode("utf-8") for n in names]


class _Closed:
    """The backend of a closed connection: every call raises ClosedError (a ``Backend``
    and an ``AsyncBackend`` alike: its methods never return)."""

    def call(self, op: Any, /, *args: Any, **kwargs: Any) -> NoReturn:
        raise ClosedError("the connection is closed")

    def scan(self, table: str, rng: Any, spec: Any) -> NoReturn:
        raise ClosedError("the connection is closed")

    def close(self) -> NoReturn:
        raise ClosedError("the connection is closed")


_CLOSED = _Closed()
B = TypeVar("B")
BK = TypeVar("BK", Backend, AsyncBackend)


def _live(backend: B) -> B:
    if backend is _CLOSED:
        raise ClosedError("the connection is closed")
    return backend


# ---- the plans: one per method, shared by Connection and AsyncConnection ----------------------


def tables(c: TablePrefix) -> Plan[list[bytes]]:
    """Table names as bytes, without the prefix (as happybase returns them)."""
    return c._listed((yield from call(Ops.table_names)))


def create_table(
    c: TablePrefix,
    name: bytes | str,
    families: Mapping[bytes | str, Mapping[str, Any] | None],
    split_keys: Iterable[bytes | str] | None = None,
) -> Plan[None]:
    """Create a table: ``{"cf": {"max_versions": 3, "time_to_live": 86400}, ...}``.

    ``split_keys`` pre-splits the table into regions at those row keys.
    """
    cfs, keys = new_families(families, split_keys)
    yield from call(Ops.create_table, TableDescriptor(c._full(name), cfs), keys)


def delete_table(c: TablePrefix, name: bytes | str, disable: bool = False) -> Plan[None]:
    """Delete a table; it must be disabled first unless ``disable=True``."""
    full = c._full(name)
    if disable and (yield from call(Ops.is_table_enabled, full)):
        yield from call(Ops.disable_table, full)
    # the master refuses an enabled table (TableEnabled) and a reserved one (ReservedName)
    yield from call(Ops.delete_table, full)


def alter_table(
    c: TablePrefix,
    name: bytes | str,
    families: Mapping[bytes | str, Mapping[str, Any] | None] | None = None,
    delete: Iterable[bytes | str] | None = None,
) -> Plan[None]:
    """Add column families, change options of existing ones, or delete families.

    ``families`` maps a family to options; for an existing family only the given
    options change (as HBase's ``alter 't', NAME => 'cf', VERSIONS => 5``), a new
    family is created with them. ``delete`` lists families to remove with their data.

    >>> import hedgerow, tempfile
    >>> conn = hedgerow.connect(tempfile.mkdtemp())
    >>> conn.create_table("t", {"cf": {}})
    >>> conn.alter_table("t", {"cf": {"max_versions": 5}, "cf2": {}})
    >>> sorted(conn.table("t").families()), conn.table("t").families()[b"cf"]["max_versions"]
    ([b'cf', b'cf2'], 5)
    >>> conn.close()
    """
    desc = yield from call(Ops.descriptor, c._full(name))
    yield from call(Ops.modify_table, altered_table(desc, families, delete))


def truncate_table(c: TablePrefix, name: bytes | str, preserve_splits: bool = True) -> Plan[None]:
    """Delete every row of a table; its families (and, by default, region splits) stay."""
    yield from call(Ops.truncate_table, c._full(name), preserve_splits=preserve_splits)


def enable_table(c: TablePrefix, name: bytes | str) -> Plan[None]:
    """Enable a disabled table: its regions are opened and served again."""
    yield from call(Ops.enable_table, c._full(name))


def disable_table(c: TablePrefix, name: bytes | str) -> Plan[None]:
    """Disable a table: its regions are flushed and closed; its data stays."""
    yield from call(Ops.disable_table, c._full(name))


def is_table_enabled(c: TablePrefix, name: bytes | str) -> Plan[bool]:
    """Whether the table is enabled."""
    return (yield from call(Ops.is_table_enabled, c._full(name)))


def compact_table(c: TablePrefix, name: bytes | str, major: bool = False) -> Plan[None]:
    """Compact the table's store files now (a major compaction also drops deleted data)."""
    yield from call(Ops.compact_table, c._full(name), major=major)


def flush_table(c: TablePrefix, name: bytes | str) -> Plan[None]:
    """Write the table's memstores to store files now."""
    yield from call(Ops.flush_table, c._full(name))


class _Conn(Protocol):
    """What the table, admin and open plans read of a connection."""

    @property
    def _backend(self) -> object: ...
    def _full(self, name: bytes | str, use_prefix: bool = True) -> str: ...


def table(c: _Conn, name: bytes | str, use_prefix: bool = True) -> str:
    """A table object (no I/O; a missing table fails at first use)."""
    _live(c._backend)
    return c._full(name, use_prefix)


def admin(c: _Conn) -> Callable[[bytes | str], str]:
    """Region and cluster administration: split, merge, flush, compact, status."""
    _live(c._backend)
    return c._full


def open(c: _Conn) -> Plan[None]:
    """happybase compatibility: a connection is open from the start."""
    _live(c._backend)
    yield from ()


class _Methods(TablePrefix, Generic[BK]):
    """Every connection method, bound once for both flavours (client/plan.py)."""

    _backend: BK

    def __init__(
        self,
        backend: BK,
        *,
        table_prefix: bytes | str | None = None,
        table_prefix_separator: bytes | str = b"_",
    ) -> None:
        self._backend = backend
        self._set_prefix(table_prefix, table_prefix_separator)

    def __repr__(self) -> str:
        state = "closed" if self._backend is _CLOSED else "open"
        return f"<{type(self).__module__}.{type(self).__name__} {state}>"

    @property
    def backend(self) -> BK:
        """The backend the connection's calls go to (ClosedError once closed)."""
        return _live(self._backend)

    table = making(table, lambda b, name: Table(name, b), lambda b, name: AsyncTable(name, b))
    admin = making(admin, Admin, AsyncAdmin)
    tables = method(tables)
    create_table = method(create_table)
    delete_table = method(delete_table)
    alter_table = method(alter_table)
    truncate_table = method(truncate_table)
    enable_table = method(enable_table)
    disable_table = method(disable_table)
    is_table_enabled = method(is_table_enabled)
    compact_table = method(compact_table)
    flush_table = method(flush_table)
    open = method(open)


class Connection(_Methods[Backend], Blocking):
    """A connection to a Hedgerow store. Methods by purpose:

    - tables: ``tables``, ``table``, ``create_table``, ``delete_table``, ``alter_table``,
      ``truncate_table``
    - state: ``enable_table``, ``disable_table``, ``is_table_enabled``
    - maintenance: ``compact_table``, ``flush_table``, ``admin``
    - lifecycle: ``open``, ``close`` (also a context manager)

    ``table_prefix`` works as in happybase: every table name gets
    ``prefix + separator`` in front.
    """

    def close(self) -> None:
        """Flush and release the store, or close the network connection (idempotent)."""
        b, self._backend = self._backend, _CLOSED
        if b is not _CLOSED:
            b.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncConnection(_Methods[AsyncBackend], Awaiting):
    """``Connection``'s methods as coroutines (``table`` and ``admin`` need no await)."""

    async def close(self) -> None:
        """Flush and release the store, or close the network connection (idempotent)."""
        b, self._backend = self._backend, _CLOSED
        if b is not _CLOSED:
            await b.close()

    async def __aenter__(self) -> AsyncConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _explicit_fields(opts: Mapping[str, Any] | None) -> list[str]:
    """Canonical descriptor field names of the options a caller gave explicitly."""
    from hedgerow.model.schema import canonical_option

    return [canonical_option(k) for k in (opts or {})]


# ---- pure helpers: arguments -> descriptors ------------------------------------------------


def new_families(
    families: Mapping[bytes | str, Mapping[str, Any] | None],
    split_keys: Iterable[bytes | str] | None,
) -> tuple[dict[bytes, ColumnFamilyDescriptor], list[bytes]]:
    """``create_table``'s families and split keys, validated -> what the descriptor holds."""
    if not isinstance(families, Mapping) or not families:
        raise InvalidArgument("families must be a non-empty mapping of name to options")
    cfs: dict[bytes, ColumnFamilyDescriptor] = {}
    for fname, opts in families.items():
        fn = fname.encode("utf-8") if isinstance(fname, str) else fname
        if not isinstance(fn, bytes):
            raise InvalidArgument(f"column family name must be str or bytes: {fname!r}")
        fn = fn.rstrip(b":")  # happybase accepts "cf:"
        if opts is not None and not isinstance(opts, Mapping):
            raise InvalidArgument(f"options of family {fname!r} must be a mapping")
        cfs[fn] = ColumnFamilyDescriptor.from_options(fn, opts)
    keys = []
    for k in split_keys or ():
        keys.append(k.encode("utf-8") if isinstance(k, str) else k)
    return cfs, keys


def altered_table(
    desc: TableDescriptor,
    families: Mapping[bytes | str, Mapping[str, Any] | None] | None,
    delete: Iterable[bytes | str] | None,
) -> TableDescriptor:
    """``alter_table``'s arguments applied to the table's current descriptor."""
    full = desc.name
    fams = dict(desc.families)
    for fname, opts in (families or {}).items():
        fn = fname.encode("utf-8") if isinstance(fname, str) else fname
        if not isinstance(fn, bytes):
            raise InvalidArgument(f"column family name must be str or bytes: {fname!r}")
        fn = fn.rstrip(b":")
        if opts is not None and not isinstance(opts, Mapping):
            raise InvalidArgument(f"options of family {fname!r} must be a mapping")
        if fn in fams:
            merged = fams[fn].to_dict()
            merged.pop("name")
            base = ColumnFamilyDescriptor.from_dict({"name": fn.decode("ascii"), **merged})
            updated = ColumnFamilyDescriptor.from_options(fn, opts)
            changed = {k: getattr(updated, k) for k in _explicit_fields(opts)}
            fams[fn] = ColumnFamilyDescriptor(**{**base.__dict__, **changed})
        else:
            fams[fn] = ColumnFamilyDescriptor.from_options(fn, opts)
    if isinstance(delete, bytes | str):
        raise InvalidArgument("delete must be a list of family names")
    for fname in delete or ():
        fn = (fname.encode("utf-8") if isinstance(fname, str) else fname).rstrip(b":")
        if fn not in fams:
            raise FamilyNotFound(
                f"column family {fn.decode('utf-8', 'backslashreplace')!r} does not exist "
                f"in table {full!r}"
            )
        del fams[fn]
    if not fams:
        raise InvalidArgument(f"table {full!r} must keep at least one column family")
    return TableDescriptor(full, fams)
