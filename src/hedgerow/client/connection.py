"""Connection: tables and administration, shaped like happybase's ``Connection``.

Role: the object ``hedgerow.connect`` returns; hands out ``Table`` objects and
does DDL through a ``Backend`` (embedded engine, or a server later).
Invariants: after ``close`` every call raises ClosedError.
Concurrency: thread-safe (the backend is).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hedgerow.client.admin import Admin
from hedgerow.client.backend import Backend
from hedgerow.client.table import Table
from hedgerow.errors import ClosedError, FamilyNotFound, InvalidArgument
from hedgerow.model.schema import ColumnFamilyDescriptor, TableDescriptor, validate_table_name

__all__ = ["Connection"]


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


class Connection(TablePrefix):
    """A connection to a Hedgerow store. Methods by purpose:

    - tables: ``tables``, ``table``, ``create_table``, ``delete_table``
    - state: ``enable_table``, ``disable_table``, ``is_table_enabled``
    - maintenance: ``compact_table``, ``flush_table``
    - lifecycle: ``close`` (also a context manager)

    ``table_prefix`` works as in happybase: every table name gets
    ``prefix + separator`` in front.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        table_prefix: bytes | str | None = None,
        table_prefix_separator: bytes | str = b"_",
    ) -> None:
        self._backend: Backend | None = backend
        self._set_prefix(table_prefix, table_prefix_separator)

    def __repr__(self) -> str:
        return f"<hedgerow.Connection {'closed' if self._backend is None else 'open'}>"

    @property
    def backend(self) -> Backend:
        b = self._backend
        if b is None:
            raise ClosedError("the connection is closed")
        return b

    # ---- tables -------------------------------------------------------------------
    def admin(self) -> Admin:
        """Region and cluster administration: split, merge, flush, compact, status."""
        return Admin(self.backend, self._full)

    def table(self, name: bytes | str, use_prefix: bool = True) -> Table:
        """A Table object (no I/O; a missing table fails at first use)."""
        return Table(self._full(name, use_prefix), self.backend)

    def tables(self) -> list[bytes]:
        """Table names as bytes, without the prefix (as happybase returns them)."""
        return self._listed(self.backend.table_names())

    def create_table(
        self,
        name: bytes | str,
        families: Mapping[bytes | str, Mapping[str, Any] | None],
        split_keys: Iterable[bytes | str] | None = None,
    ) -> None:
        """Create a table: ``{"cf": {"max_versions": 3, "time_to_live": 86400}, ...}``.

        ``split_keys`` pre-splits the table into regions at those row keys.
        """
        cfs, keys = new_families(families, split_keys)
        self.backend.create_table(TableDescriptor(self._full(name), cfs), keys)

    def delete_table(self, name: bytes | str, disable: bool = False) -> None:
        """Delete a table; it must be disabled first unless ``disable=True``."""
        full = self._full(name)
        if disable and self.backend.is_table_enabled(full):
            self.backend.disable_table(full)
        # the master refuses an enabled table (TableEnabled) and a reserved one (ReservedName)
        self.backend.delete_table(full)

    def alter_table(
        self,
        name: bytes | str,
        families: Mapping[bytes | str, Mapping[str, Any] | None] | None = None,
        delete: Iterable[bytes | str] | None = None,
    ) -> None:
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
        desc = self.backend.descriptor(self._full(name))
        self.backend.modify_table(altered_table(desc, families, delete))

    def truncate_table(self, name: bytes | str, preserve_splits: bool = True) -> None:
        """Delete every row of a table; its families (and, by default, region splits) stay."""
        self.backend.truncate_table(self._full(name), preserve_splits=preserve_splits)

    def enable_table(self, name: bytes | str) -> None:
        self.backend.enable_table(self._full(name))

    def disable_table(self, name: bytes | str) -> None:
        self.backend.disable_table(self._full(name))

    def is_table_enabled(self, name: bytes | str) -> bool:
        return self.backend.is_table_enabled(self._full(name))

    def compact_table(self, name: bytes | str, major: bool = False) -> None:
        """Compact the table's store files now (a major compaction also drops deleted data)."""
        self.backend.compact_table(self._full(name), major=major)

    def flush_table(self, name: bytes | str) -> None:
        """Write the table's memstores to store files now."""
        self.backend.flush_table(self._full(name))

    # ---- lifecycle -------------------------------------------------------------------
    def open(self) -> None:
        """happybase compatibility: an embedded connection is open from the start."""
        self.backend  # noqa: B018 - raises when closed

    def close(self) -> None:
        """Flush and release the store (idempotent)."""
        b, self._backend = self._backend, None
        if b is not None:
            b.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _explicit_fields(opts: Mapping[str, Any] | None) -> list[str]:
    """Canonical descriptor field names of the options a caller gave explicitly."""
    from hedgerow.model.schema import canonical_option

    return [canonical_option(k) for k in (opts or {})]


# ---- pure helpers shared with the asyncio flavour (client/aio.py) ---------------------------


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
