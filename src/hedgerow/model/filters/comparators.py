"""Comparators and compare operators used by the compare-style filters.

Role: RowFilter, FamilyFilter, QualifierFilter, ValueFilter, SingleColumnValueFilter,
DependentColumnFilter and ColumnValueFilter hold a ``CompareOperator`` and a
``ByteArrayComparable``; the filter-string parser builds them from ``'type:value'``.
Invariants: ``compare_to(cell_bytes)`` returns the sign of *comparator value vs
cell bytes* (HBase ``ByteArrayComparable.compareTo``: the comparator is the left
operand, see HBase's ``PrivateCellUtil.compareValue``).
``passes(op, result)`` then keeps the cell when ``cell OP comparator-value`` holds,
so ``LESS`` keeps cells whose bytes sort below the comparator's value
(HBase ``CompareFilter.compare`` returns the inverse, "filter out").
Concurrency: immutable after construction; shareable.
Hot path: ``compare_to`` (once per compared cell); see bench/bench_filters.py.
"""

from __future__ import annotations

import re
import struct
from enum import Enum
from typing import Any

import re2

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
    ``find()`` semantics against the cell bytes decoded with ``charset`` (default
    UTF-8, malformed bytes become U+FFFD as Java's decoder does; pass
    ``charset="iso-8859-1"`` for arbitrary binary keys).  Only meaningful with
    EQUAL / NOT_EQUAL.

    The engine is RE2 (google-re2), which matches in time linear in the pattern
    and the input: no pattern can make a match run for exponential time (issue 11,
    finding 6; tests/regressions/test_i11_f6_regex_deadline.py).  Its dialect differs
    from Java's ``java.util.regex``: backreferences (``\\1``, ``\\k<n>``),
    lookaround (``(?=``, ``(?!``, ``(?<=``, ``(?<!``), atomic groups ``(?>``,
    possessive quantifiers (``a*+``), ``\\G``, ``\\Z`` (use ``\\z``), ``\\p{Alpha}``
    POSIX names (use ``[[:alpha:]]``) and repetition counts over 1000 are refused;
    ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are ASCII-only (as Java's defaults); ``$``
    without MULTILINE matches only at the very end (Java also matches before a final
    line terminator).  ``flags`` are Python ``re`` flag bits (that is what travels on
    the wire): DOTALL, IGNORECASE and MULTILINE are honoured, UNICODE and ASCII are
    accepted (classes are ASCII either way), VERBOSE and LOCALE are refused.

    Raises InvalidArgument naming the pattern, and for RE2's refusals the
    unsupported feature, if the pattern does not compile.

    >>> RegexStringComparator("(a+)+$").compare_to(b"a" * 28 + b"b")  # linear, instant
    1
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
        self._regex = _compile_re2(text, flags)  # constant after __init__
        self.flags = flags  # constant after __init__
        self.charset = charset  # constant after __init__
        self.pattern = text  # constant after __init__

    def compare_to(self, other: bytes) -> int:
        # RE2 matches UTF-8 bytes: decode with the charset (malformed -> U+FFFD), then
        # encode as UTF-8 (two C passes; no str-offset bookkeeping as re2's str API has)
        data = other.decode(self.charset, "replace").encode("utf-8", "surrogatepass")
        return 0 if self._regex.search(data) is not None else 1


#: Python ``re`` flag bits RegexStringComparator honours (or accepts and ignores).
_RE_FLAGS_OK = re.DOTALL | re.IGNORECASE | re.MULTILINE | re.UNICODE | re.ASCII
#: RE2 parse errors -> the unsupported feature, by the offending text's start.
_RE2_FEATURES = (
    ("(?=", "lookahead"),
    ("(?!", "negative lookahead"),
    ("(?<=", "lookbehind"),
    ("(?<!", "negative lookbehind"),
    ("(?>", "an atomic group"),
    ("(?P=", "a named backreference"),
    ("(?(", "a conditional group"),
    ("\\k", "a named backreference"),
    ("\\G", "\\G (end of the previous match)"),
    ("\\Z", "\\Z (use \\z for the end of the input)"),
    ("*+", "a possessive quantifier"),
    ("++", "a possessive quantifier"),
    ("?+", "a possessive quantifier"),
    ("}+", "a possessive quantifier"),
)
#: RE2's memory budget per compiled pattern (its default, 8 MiB, stated here so the
#: bound is visible): a pattern whose program needs more is refused.
_RE2_MAX_MEM_BYTES = 8 << 20


def _unsupported_feature(message: str, pattern: str) -> str:
    """The feature named by an RE2 parse error (``"invalid perl operator: (?="``); RE2
    quotes only the operator's first characters (``(?P`` for ``(?P=name)``), so a short
    quote is completed from the pattern."""
    _, _, arg = message.partition(": ")
    for prefix, feature in _RE2_FEATURES:
        if arg.startswith(prefix) or arg.endswith(prefix):
            return feature
        if arg and prefix.startswith(arg) and prefix in pattern:
            return feature
    if len(arg) == 2 and arg[0] == "\\" and arg[1].isdigit():
        return f"a backreference ({arg})"
    if message.startswith("invalid repetition size"):
        return f"a repetition count over 1000 ({arg})"
    return ""


def _compile_re2(text: str, flags: int) -> Any:
    if flags & ~_RE_FLAGS_OK:
        raise InvalidArgument(
            f"invalid regular expression {text!r}: flags {flags:#x} include bits the "
            "linear-time regex engine (RE2) does not support (VERBOSE, LOCALE, ...)"
        )
    options = re2.Options()
    options.log_errors = False  # refusals are reported to the caller, not to stderr
    options.never_capture = True  # only "is there a match" is asked
    options.max_mem = _RE2_MAX_MEM_BYTES
    options.dot_nl = bool(flags & re.DOTALL)
    options.case_sensitive = not flags & re.IGNORECASE
    source = ("(?m)" + text) if flags & re.MULTILINE else text
    try:
        return re2.compile(source.encode("utf-8", "surrogatepass"), options)
    except re2.error as exc:
        why = exc.args[0] if exc.args else exc
        message = why.decode("utf-8", "replace") if isinstance(why, bytes) else str(why)
        feature = _unsupported_feature(message, text)
        if feature:
            raise InvalidArgument(
                f"invalid regular expression {text!r}: it uses {feature}, which the "
                f"linear-time regex engine (RE2) does not support ({message})"
            ) from None
        raise InvalidArgument(f"invalid regular expression {text!r}: {message}") from None


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
