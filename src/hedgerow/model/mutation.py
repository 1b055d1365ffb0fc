"""Mutations: what a client asks to change in one row, before timestamps are resolved.

Role: built by the client API (``Table.put``, ``delete``, ``batch`` ...), sent
to a backend (the embedded engine now, a region server over RPC later), where
the region resolves ``None`` timestamps against its clock and turns each op
into cells (puts and delete markers).
Invariants: ``validate`` checks every limit (row length, value size, cell
count) and names the offending cell; a mutation that fails validation changes
nothing.
Concurrency: immutable after construction (tuples and frozen dataclasses).

Delete semantics (HBase ``Delete``): ``DeleteVersion`` masks exactly one version
(``addColumn``; ``ts=None`` means the latest existing version), ``DeleteColumn``
masks all versions at or below ``ts`` (``addColumns``), ``DeleteFamily`` masks
every cell of the family at or below ``ts`` (``addFamily``),
``DeleteFamilyVersion`` masks the family's cells at exactly ``ts``
(``addFamilyVersion``), and ``DeleteRow`` writes one ``DeleteFamily`` per family.
"""

from __future__ import annotations

from dataclasses import dataclass

from hedgerow.errors import CellTooLarge, InvalidArgument, KeyTooLarge, NotACounter
from hedgerow.model.cell import MAX_TIMESTAMP
from hedgerow.model.schema import LIMITS

__all__ = [
    "DeleteColumn",
    "DeleteFamily",
    "DeleteFamilyVersion",
    "DeleteRow",
    "DeleteVersion",
    "Op",
    "Put",
    "RowMutation",
    "check_row",
    "decode_counter",
    "check_timestamp",
]


@dataclass(frozen=True, slots=True)
class Put:
    family: bytes
    qualifier: bytes
    value: bytes
    ts: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteVersion:
    family: bytes
    qualifier: bytes
    ts: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteColumn:
    family: bytes
    qualifier: bytes
    ts: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteFamily:
    family: bytes
    ts: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteFamilyVersion:
    family: bytes
    ts: int


@dataclass(frozen=True, slots=True)
class DeleteRow:
    ts: int | None = None


Op = Put | DeleteVersion | DeleteColumn | DeleteFamily | DeleteFamilyVersion | DeleteRow


def check_row(row: object) -> bytes:
    """Validate a row key (bytes, 1..32767 bytes) and return it."""
    if not isinstance(row, bytes):
        raise InvalidArgument(f"row key must be bytes, got {type(row).__name__}")
    if not row:
        raise KeyTooLarge("row key must not be empty")
    if len(row) > LIMITS["max_row_key_bytes"]:
        raise KeyTooLarge(
            f"row key is {len(row)} bytes; the limit is {LIMITS['max_row_key_bytes']} bytes"
        )
    return row


def check_timestamp(ts: object) -> int:
    """Validate an explicit timestamp (0 <= ts < 2**63 - 1)."""
    if isinstance(ts, bool) or not isinstance(ts, int):
        raise InvalidArgument(f"timestamp must be an int (milliseconds), got {ts!r}")
    if not 0 <= ts < MAX_TIMESTAMP:
        raise InvalidArgument(f"timestamp {ts} out of range 0..{MAX_TIMESTAMP - 1}")
    return ts


@dataclass(frozen=True, slots=True)
class RowMutation:
    """All changes to one row, applied atomically."""

    row: bytes
    ops: tuple[Op, ...]

    def validate(self, max_cell_bytes: int | None = None) -> None:
        """Check limits; raise an InvalidArgument subclass naming the problem."""
        check_row(self.row)
        if len(self.ops) > LIMITS["max_cells_per_mutation"]:
            raise InvalidArgument(
                f"mutation of row {self.row!r} has {len(self.ops)} cells; "
                f"the limit is {LIMITS['max_cells_per_mutation']}"
            )
        limit = LIMITS["max_cell_bytes"] if max_cell_bytes is None else max_cell_bytes
        qlimit = LIMITS["max_qualifier_bytes"]
        for op in self.ops:
            # types first, so every later message can name the cell
            if not isinstance(op, DeleteRow) and not isinstance(op.family, bytes):
                raise InvalidArgument(f"family must be bytes, got {op.family!r}")
            if isinstance(op, Put | DeleteVersion | DeleteColumn):
                if not isinstance(op.qualifier, bytes):
                    raise InvalidArgument(f"qualifier must be bytes, got {op.qualifier!r}")
                if len(op.qualifier) > qlimit:
                    raise InvalidArgument(
                        f"qualifier of {len(op.qualifier)} bytes in row {self.row!r} "
                        f"exceeds the {qlimit}-byte limit"
                    )
            ts = op.ts
            if ts is not None:
                try:
                    check_timestamp(ts)
                except InvalidArgument as e:
                    raise InvalidArgument(f"{e} (row {self.row!r}, {_where(op)})") from None
            if isinstance(op, Put):
                if not isinstance(op.value, bytes):
                    raise InvalidArgument(
                        f"value of {_where(op)} in row {self.row!r} must be bytes, "
                        f"got {type(op.value).__name__}"
                    )
                if len(op.value) > limit:
                    raise CellTooLarge(
                        f"value of {_where(op)} in row {self.row!r} "
                        f"is {len(op.value)} bytes; the maximum cell size is {limit} bytes"
                    )


def _where(op: Op) -> str:
    """``family:qualifier`` (or the family, or "the row") of an op, for messages."""
    if isinstance(op, DeleteRow):
        return "the row"
    fam = op.family.decode("utf-8", "backslashreplace")
    qual = getattr(op, "qualifier", None)
    if qual is None:
        return f"family {fam}"
    return f"{fam}:{qual.decode('utf-8', 'backslashreplace')}"


def decode_counter(
    value: bytes | None, family: bytes, qualifier: bytes, row: bytes | None = None
) -> int:
    """A counter cell's value: 8 bytes big-endian signed; absent or empty is 0.

    Raises NotACounter naming the cell (and the row, when given) for any other width
    (HBase: "Field is not a long, it's N bytes wide").
    """
    if value is None or value == b"":
        return 0
    if len(value) != 8:
        where = "" if row is None else f" in row {row!r}"
        raise NotACounter(
            f"cell {family.decode('utf-8', 'backslashreplace')}:"
            f"{qualifier.decode('utf-8', 'backslashreplace')}{where} is not a counter: "
            f"it is {len(value)} bytes wide, a counter is 8"
        )
    return int.from_bytes(value, "big", signed=True)
