"""Hedgerow's exception tree: every error any interface raises is one of these.

Role: imported by every layer; the gateways map these classes to their wire
errors (Thrift IOError/IllegalArgument/AlreadyExists, gRPC status codes).

The tree::

    HedgerowError                      base of everything Hedgerow raises
    ├── InvalidArgument                bad input from the caller; nothing was changed
    │   ├── KeyTooLarge                row key empty or over the limit
    │   ├── CellTooLarge               cell value over the configured maximum
    │   ├── NotACounter                increment of a cell that is not 8 bytes wide
    │   ├── FamilyNotFound             mutation or read naming an unknown column family
    │   ├── FilterSyntaxError          malformed filter string (names position)
    │   └── ReservedName               DDL or a write on a table Hedgerow keeps (``hbase:``)
    ├── TableError
    │   ├── TableNotFound              no such table
    │   ├── TableExists                create of a table that exists
    │   ├── TableDisabled              data access to a disabled table
    │   └── TableEnabled               delete of a table that is still enabled
    ├── StorageError                   the engine cannot do what was asked
    │   ├── CorruptionError            checksum mismatch or unreadable structure (names file, offset)
    │   ├── FormatVersionError         a file written by an unknown format version
    │   ├── DirectoryLocked            another process has the data directory open
    │   ├── StorageFull                the disk is full; nothing was written; retry later
    │   ├── RegionTooBusy              memstore over its blocking limit (flushes failing); retry
    │   └── WriteOutcomeUnknown        a write may or may not have been logged (double fault)
    ├── ClosedError                    use of a closed connection, table or store
    │   └── RegionClosed               the region stopped serving (moved, split, reopened); retry
    │       └── NotServingRegion       a region-addressed request reached a server without it
    └── CoordinationError              cluster coordination (ZooKeeper) failed
        ├── SessionExpired             the coordination session ended: its ephemeral state is gone
        ├── CoordinationConnectionLost cannot reach the coordination service (session may live)
        └── NotLeader                  a master-only write by a process that is not the active master

Every class carries a stable ``code`` string used on the wire (see
``docs/formats/rpc.md`` once the RPC layer exists); codes are never reused.
"""

from __future__ import annotations

import errno

__all__ = [
    "CellTooLarge",
    "ClosedError",
    "CoordinationConnectionLost",
    "CoordinationError",
    "CorruptionError",
    "DirectoryLocked",
    "FamilyNotFound",
    "FilterSyntaxError",
    "FormatVersionError",
    "HedgerowError",
    "InvalidArgument",
    "KeyTooLarge",
    "NotACounter",
    "NotLeader",
    "NotServingRegion",
    "RegionClosed",
    "RegionTooBusy",
    "ReservedName",
    "SessionExpired",
    "StorageError",
    "StorageFull",
    "TableDisabled",
    "TableEnabled",
    "TableError",
    "TableExists",
    "TableNotFound",
    "WriteOutcomeUnknown",
    "error_class_for_code",
    "is_core_panic",
    "storage_error",
]

_BY_CODE: dict[str, type[HedgerowError]] = {}


def _register(cls: type[HedgerowError]) -> type[HedgerowError]:
    if cls.code in _BY_CODE:
        raise RuntimeError(f"duplicate error code {cls.code!r}")
    _BY_CODE[cls.code] = cls
    return cls


def error_class_for_code(code: str) -> type[HedgerowError]:
    """Return the exception class registered for a wire ``code`` (HedgerowError if unknown)."""
    return _BY_CODE.get(code, HedgerowError)


class HedgerowError(Exception):
    """Base class of every error Hedgerow raises."""

    code = "HEDGEROW_ERROR"


_register(HedgerowError)


@_register
class InvalidArgument(HedgerowError, ValueError):
    """The caller passed something Hedgerow cannot accept; nothing was changed."""

    code = "INVALID_ARGUMENT"


@_register
class KeyTooLarge(InvalidArgument):
    """A row key is empty or longer than the limit (32767 bytes)."""

    code = "KEY_TOO_LARGE"


@_register
class CellTooLarge(InvalidArgument):
    """A cell value is larger than the configured maximum cell size."""

    code = "CELL_TOO_LARGE"


@_register
class NotACounter(InvalidArgument):
    """An increment targets a cell whose value is not an 8-byte big-endian long."""

    code = "NOT_A_COUNTER"


@_register
class FilterSyntaxError(InvalidArgument):
    """A filter string is malformed; the message names the problem and its position."""

    code = "FILTER_SYNTAX"

    def __init__(self, message: str, position: int | None = None) -> None:
        if position is not None:
            message = f"{message} (at position {position})"
        super().__init__(message)
        self.position = position


@_register
class ReservedName(InvalidArgument):
    """The table is in a reserved namespace (``hbase``, where ``hbase:meta`` lives):
    Hedgerow maintains those tables itself, so no client may create, alter, enable,
    disable, truncate, delete, split, merge or write to one (reads of ``hbase:meta``
    are allowed). The message names the table and the rule; nothing was changed."""

    code = "RESERVED_NAME"


@_register
class TableError(HedgerowError):
    """Base of errors about a table's existence or state."""

    code = "TABLE_ERROR"


@_register
class TableNotFound(TableError, KeyError):
    """The named table does not exist."""

    code = "TABLE_NOT_FOUND"

    def __str__(self) -> str:  # KeyError quotes its argument; we want the plain message
        return str(self.args[0]) if self.args else "table not found"


@_register
class TableExists(TableError):
    """A table with that name already exists."""

    code = "TABLE_EXISTS"


@_register
class TableDisabled(TableError):
    """The table is disabled; enable it before reading or writing."""

    code = "TABLE_DISABLED"


@_register
class TableEnabled(TableError):
    """The table is enabled; disable it first (or pass ``disable=True``)."""

    code = "TABLE_ENABLED"


@_register
class FamilyNotFound(InvalidArgument):
    """A mutation or read names a column family the table does not have."""

    code = "FAMILY_NOT_FOUND"


@_register
class StorageError(HedgerowError):
    """The storage engine could not complete the operation."""

    code = "STORAGE_ERROR"


def _located(message: str, path: str | None, offset: int | None) -> str:
    where = ""
    if path is not None:
        where = f" in {path}"
        if offset is not None:
            where += f" at offset {offset}"
    return message + where


@_register
class CorruptionError(StorageError):
    """Stored data failed a checksum or could not be parsed; the message names file and offset."""

    code = "CORRUPTION"

    def __init__(self, message: str, path: str | None = None, offset: int | None = None) -> None:
        super().__init__(_located(message, path, offset))
        self.path = path
        self.offset = offset


@_register
class FormatVersionError(StorageError):
    """A file was written in a format version this reader does not know (names the file)."""

    code = "FORMAT_VERSION"

    def __init__(self, message: str, path: str | None = None, offset: int | None = None) -> None:
        super().__init__(_located(message, path, offset))
        self.path = path
        self.offset = offset


@_register
class DirectoryLocked(StorageError):
    """Another process holds the data directory's lock."""

    code = "DIRECTORY_LOCKED"


@_register
class StorageFull(StorageError):
    """The disk (or the filesystem's quota) is full. Nothing was changed: the write was not
    logged or applied. Retryable: writes resume by themselves once space is freed
    (docs/design/storage.md, "The write path's contract")."""

    code = "STORAGE_FULL"


@_register
class RegionTooBusy(StorageError):
    """The region's memstore is over its blocking limit because its flushes cannot keep up
    or are failing (the message says why). Nothing was changed; retry after a pause
    (HBase's RegionTooBusyException)."""

    code = "REGION_TOO_BUSY"


@_register
class WriteOutcomeUnknown(StorageError):
    """The write-ahead log failed and then could not make sure the write's record is gone
    (a second I/O error while discarding it): the write is not visible now, but may be
    replayed at the next open. The log accepts no more writes until the server restarts.
    Like a timeout: read the row to learn the outcome."""

    code = "WRITE_OUTCOME_UNKNOWN"


def is_core_panic(e: BaseException) -> bool:
    """True for a panic of the Rust core (``hedgerow._core``) that reached Python.

    PyO3 turns a panic into ``pyo3_runtime.PanicException``, a ``BaseException`` (like
    ``SystemExit``, so that ``except Exception`` does not swallow a bug). A server treats
    it as an internal error of the one request and keeps serving."""
    t = type(e)
    return t.__name__ == "PanicException" and t.__module__ == "pyo3_runtime"


def storage_error(e: BaseException, what: str) -> StorageError:
    """The StorageError a failed file operation becomes: StorageFull for ENOSPC/EDQUOT,
    the error itself if it already is one, else StorageError naming ``what`` failed."""
    if isinstance(e, StorageError):
        return e
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        err: StorageError = StorageFull(f"{what}: the disk is full ({e.strerror or e}); retry")
    else:
        err = StorageError(f"{what}: {e!r}")
    err.__cause__ = e
    return err


@_register
class ClosedError(HedgerowError):
    """The connection, table or store has been closed."""

    code = "CLOSED"


@_register
class RegionClosed(ClosedError):
    """The region stopped serving (reopened by an alter, truncated, moved or split).

    Retryable: the engine and the clients route the request again.
    """

    code = "REGION_CLOSED"


@_register
class NotServingRegion(RegionClosed):
    """The request named a region this server does not serve (any more): it was split,
    merged, moved, or never was. Clients drop their cached location and look again
    (docs/rfcs/0001-region-addressed-requests.md)."""

    code = "NOT_SERVING_REGION"


@_register
class CoordinationError(HedgerowError):
    """Cluster coordination (ZooKeeper, or the in-process stand-in) could not do what was asked
    (docs/design/cluster.md)."""

    code = "COORDINATION"


@_register
class SessionExpired(CoordinationError):
    """The coordination session expired or was closed: its ephemeral registrations and any
    mastership are gone. The owner stops acting on them (a region server aborts, a master
    steps down) and may start again with a new session."""

    code = "SESSION_EXPIRED"


@_register
class CoordinationConnectionLost(CoordinationError, ConnectionError):
    """The coordination service cannot be reached now (connecting timed out, or the
    connection dropped and the session may still be alive); retry later."""

    code = "COORDINATION_CONNECTION_LOST"


@_register
class NotLeader(CoordinationError):
    """A write only the active master may make came from a process that is not (or no
    longer) the active master; nothing was written."""

    code = "NOT_LEADER"
