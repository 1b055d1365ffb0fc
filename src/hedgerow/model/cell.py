"""Cells and cell types: the unit of data in Hedgerow (HBase's KeyValue).

Role: produced by the read path (region scanners) and consumed by filters and
the client API; ``KeyType`` values are persisted in store files and the WAL.
Format: the numeric values of ``KeyType`` are HBase's ``KeyValue.Type`` codes
(hbase-common KeyValue.java), see docs/formats/keys.md.
Invariants: a Cell is immutable.
Concurrency: immutable, shareable between threads.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

__all__ = [
    "LATEST_TIMESTAMP",
    "MAX_TIMESTAMP",
    "Cell",
    "KeyType",
    "is_delete",
]

#: Largest timestamp a cell may carry (HBase: Long.MAX_VALUE).
MAX_TIMESTAMP = (1 << 63) - 1
#: "No timestamp given": the server substitutes its clock (HBase: HConstants.LATEST_TIMESTAMP).
LATEST_TIMESTAMP = MAX_TIMESTAMP


class KeyType(IntEnum):
    """The type of a cell: a value or one of the four delete markers.

    ON-DISK: never renumber; values are HBase's KeyValue.Type codes.
    """

    PUT = 4
    """A value."""
    DELETE = 8
    """Masks exactly one version of one column (``Delete.addColumn``)."""
    DELETE_FAMILY_VERSION = 10
    """Masks every column of the family at exactly one timestamp (``addFamilyVersion``)."""
    DELETE_COLUMN = 12
    """Masks all versions of one column at or below a timestamp (``addColumns``)."""
    DELETE_FAMILY = 14
    """Masks every cell of the family at or below a timestamp (``addFamily``, row delete)."""


_DELETE_TYPES = frozenset(
    {
        KeyType.DELETE,
        KeyType.DELETE_FAMILY_VERSION,
        KeyType.DELETE_COLUMN,
        KeyType.DELETE_FAMILY,
    }
)


def is_delete(key_type: int) -> bool:
    """True for the four delete-marker types."""
    return key_type in _DELETE_TYPES


class Cell(NamedTuple):
    """One versioned cell as the read path returns it.

    >>> c = Cell(b"row1", b"cf", b"q", 1000, KeyType.PUT, b"v")
    >>> c.column
    b'cf:q'
    """

    row: bytes
    family: bytes
    qualifier: bytes
    timestamp: int
    type: int
    value: bytes
    seq: int = 0

    @property
    def column(self) -> bytes:
        """``family:qualifier``, the column name happybase uses."""
        return self.family + b":" + self.qualifier
