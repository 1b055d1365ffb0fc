"""Comparators and compare operators used by the compare-style filters.

Role: RowFilter, FamilyFilter, QualifierFilter, ValueFilter, SingleColumnValueFilter,
DependentColumnFilter and ColumnValueFilter hold a ``CompareOperator`` and a
``ByteArrayComparable``; the filter-string parser builds them from ``'type:value'``.
Invariants: ``compare_to(cell_bytes)`` returns the sign of *comparator value vs
cell bytes* (HBase ``ByteArrayComparable.compareTo``: the comparator is the left
operand, see hbase-happybase.md section 3.3 and ``PrivateCellUtil.compareValue``).
``passes(op, result)`` then keeps the cell when ``cell OP comparator-value`` holds,
so ``LESS`` keeps cells whose bytes sort below the comparator's value
(HBase ``CompareFilter.compare`` returns the inverse, "filter out").
Concurrency: immutable after construction; shareable.
Hot path: ``compare_to`` (once per compared cell); see bench/bench_filters.py.
"""

from __future__ import annotations

import re
import struct
import warnings
from enum import Enum

from hedgerow.errors import InvalidArgument

__all__ = [
    "BinaryComparator",
    "BinaryPrefixComparator",
    "BitComparator",
    "BitwiseOp",
    "ByteArrayComparable",
    "CompareOperator",
    "LongComparator",
    "NullComparator",
    "RegexStringComparator",
    "SubstringComparator",
    "passes",
]


class CompareOperator(Enum):
    """HBase ``CompareOperator``; the value is the filter-language symbol (NO_OP has none)."""

    LESS = "<"
    """Keep cells whose bytes sort strictly below the comparator's value."""
    LESS_OR_EQUAL = "<="
    """Keep cells at or below the comparator's value."""
    EQUAL = "="
    """Keep cells equal to (or, for regex/substring comparators, matching) the value."""
    NOT_EQUAL = "!="
    """Keep cells that are not equal to (do not match) the value."""
    GREATER_OR_EQUAL = ">="
    """Keep cells at or above the comparator's value."""
    GREATER = ">"
    """Keep cells strictly above the comparator's value."""
    NO_OP = "NO_OP"
    """Keep nothing (HBase: compareRow/compareValue with NO_OP always filter out)."""


def passes(op: CompareOperator, compare_result: int) -> bool:
    """True when a cell whose comparison gave ``compare_result`` is kept under ``op``.

    ``compare_result`` is ``comparator.compare_to(cell_bytes)``: negative when the
    comparator's value sorts below the cell's bytes.

    >>> passes(CompareOperator.LESS, BinaryComparator(b"b").compare_to(b"a"))
    True
    >>> passes(CompareOperator.LESS, BinaryComparator(b"b").compare_to(b"c"))
    False
    """
    # Inverse of HBase CompareFilter.compare(op, compareResult), which answers "filter out".
    if op is CompareOperator.LESS:
        return compare_result > 0
    if op is CompareOperator.LESS_OR_EQUAL:
        return compare_result >= 0
    if op is CompareOperator.EQUAL:
        return compare_result == 0
    if op is CompareOperator.NOT_EQUAL:
        return compare_result != 0
    if op is CompareOperator.GREATER_OR_EQUAL:
        return compare_result <= 0
    if op is CompareOperator.GREATER:
        return compare_result < 0
    return False  # NO_OP


def _sign(a: bytes, b: bytes) -> int:
    return (a > b) - (a < b)


class ByteArrayComparable:
    """Base of all comparators: holds ``value`` and compares it with cell bytes."""

    #: Name used in the filter language (``'binary:...'``), or "" if it has none.
    type_name = ""

    def __init__(self, value: bytes) -> None:
        self.value = bytes(value)  # constant after __init__

    def compare_to(self, other: bytes) -> int:
        """Sign of ``self.value`` vs ``other`` (negative, 0, positive)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and repr(other) == repr(self)

    def __hash__(self) -> int:
        return hash(repr(self))


class BinaryComparator(ByteArrayComparable):
    """Unsigned lexicographic comparison of whole byte strings (HBase BinaryComparator)."""

    type_name = "binary"

    def compare_to(self, other: bytes) -> int:
        return _sign(self.value, other)


class BinaryPrefixComparator(ByteArrayComparable):
    """Compares ``value`` with the first ``len(value)`` bytes of the cell bytes.

    HBase BinaryPrefixComparator: a cell shorter than the prefix is compared whole,
    so ``b"ab"`` vs ``b"a"`` is positive.
    """

    type_name = "binaryprefix"

    def compare_to(self, other: bytes) -> int:
        return _sign(self.value, other[: len(self.value)])


class RegexStringComparator(ByteArrayComparable):
    """Regular-expression search: 0 when the pattern is found anywhere, else 1.

    Like HBase's JavaRegexEngine the pattern is compiled with DOTALL and matched with
    ``find()`` semantics (``re.search``) against the cell bytes decoded with
    ``charset`` (default UTF-8, malformed bytes become U+FFFD as Java's decoder
    does; pass ``charset="iso-8859-1"`` for arbitrary binary keys).  Python's ``re``
    dialect is used: Java-only syntax such as ``\\p{Alpha}`` or ``\\Q..\\E`` is not
    supported.  Only meaningful with EQUAL / NOT_EQUAL.

    Raises InvalidArgument if the pattern does not compile.
    """

    type_name = "regexstring"

    def __init__(
        self, pattern: bytes | str, flags: int = re.DOTALL, charset: str = "utf-8"
    ) -> None:
        if isinstance(pattern, str):
            text = pattern
            raw = pattern.encode("utf-8", "surrogatepass")
        else:
            raw = bytes(pattern)
            text = raw.decode("utf-8", "replace")
        super().__init__(raw)
        try:
            "".encode(charset)
        except LookupError as exc:
            raise InvalidArgument(f"unknown charset {charset!r}") from exc
        try:
            # Python warns (FutureWarning) about Java-valid classes such as [0--9]; the
            # pattern still compiles with today's meaning, so the warning is not the
            # caller's problem (found by tests/unit/filters/test_parser_fuzz.py)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                self._regex = re.compile(text, flags)  # constant after __init__
        except (re.error, RecursionError, OverflowError, ValueError) as exc:
            raise InvalidArgument(f"invalid regular expression {text!r}: {exc}") from exc
        self.charset = charset  # constant after __init__
        self.pattern = text  # constant after __init__

    def compare_to(self, other: bytes) -> int:
        return 0 if self._regex.search(other.decode(self.charset, "replace")) else 1


class SubstringComparator(ByteArrayComparable):
    """Case-insensitive containment: 0 when ``value`` occurs in the cell bytes, else 1.

    HBase SubstringComparator lowercases both sides (the cell decoded as UTF-8).
    Only meaningful with EQUAL / NOT_EQUAL.
    """

    type_name = "substring"

    def __init__(self, value: bytes | str) -> None:
        text = value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")
        self._needle = text.lower()  # constant after __init__
        super().__init__(self._needle.encode("utf-8", "surrogatepass"))

    def compare_to(self, other: bytes) -> int:
        return 0 if self._needle in other.decode("utf-8", "replace").lower() else 1


class LongComparator(ByteArrayComparable):
    """Compares signed 64-bit big-endian integers (HBase LongComparator, ``Bytes.toLong``).

    Raises InvalidArgument for a cell value that is not exactly 8 bytes (HBase fails
    the scan the same way).
    """

    _LONG = struct.Struct(">q")

    def __init__(self, number: int) -> None:
        try:
            super().__init__(self._LONG.pack(number))
        except struct.error as exc:
            raise InvalidArgument(f"LongComparator value out of range: {number}") from exc
        self.number = number  # constant after __init__

    def compare_to(self, other: bytes) -> int:
        if len(other) != 8:
            raise InvalidArgument(f"LongComparator: value is {len(other)} bytes wide, not 8")
        theirs: int = self._LONG.unpack(other)[0]
        return (self.number > theirs) - (self.number < theirs)

    def __repr__(self) -> str:
        return f"LongComparator({self.number})"


class BitwiseOp(Enum):
    """Operator of a BitComparator (HBase ``BitComparator.BitwiseOp``)."""

    AND = "AND"
    OR = "OR"
    XOR = "XOR"


class BitComparator(ByteArrayComparable):
    """0 ("equal") when ``value OP cell`` has any bit set; 1 otherwise or if lengths differ.

    HBase BitComparator: only meaningful with EQUAL / NOT_EQUAL.
    """

    def __init__(self, value: bytes, op: BitwiseOp) -> None:
        super().__init__(value)
        self.op = op  # constant after __init__

    def compare_to(self, other: bytes) -> int:
        if len(other) != len(self.value):
            return 1
        mine = int.from_bytes(self.value, "big")
        theirs = int.from_bytes(other, "big")
        if self.op is BitwiseOp.AND:
            combined = mine & theirs
        elif self.op is BitwiseOp.OR:
            combined = mine | theirs
        else:
            combined = mine ^ theirs
        return 0 if combined else 1

    def __repr__(self) -> str:
        return f"BitComparator({self.value!r}, {self.op.name})"


class NullComparator(ByteArrayComparable):
    """Matches (returns 0 for) an empty value.

    Deviation: HBase's NullComparator tests for a Java ``null`` array, which a cell
    never has, so there it never matches; Hedgerow values are never None, so the
    empty value stands for "null".
    """

    def __init__(self) -> None:
        super().__init__(b"")

    def compare_to(self, other: bytes) -> int:
        return 0 if not other else 1

    def __repr__(self) -> str:
        return "NullComparator()"
