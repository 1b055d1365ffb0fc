"""Value comparisons for check-and-mutate, in a form that can travel over the wire.

Role: ``Table.check_and_mutate`` builds a ``ValueComparison`` from the caller's
``(value, op)``; the backend calls it with the stored value.  Because it keeps
``op`` and ``expected`` as plain data, the RPC layer sends those two fields and
the server rebuilds the very same comparison (docs/formats/rpc.md, CHECK_AND_MUTATE).
Semantics (HBase ``checkAndMutate``): unsigned lexicographic byte comparison
with the *given* value on the left (``expected OP stored``); ``expected`` None
(or b"") with ``=`` means "the column is absent or empty", with ``!=`` "present
and non-empty".
Invariants: ``op`` is one of ``COMPARE_OPS`` (``==`` is normalised to ``=``).
Concurrency: immutable, shareable.
"""

from __future__ import annotations

from dataclasses import dataclass

from hedgerow.errors import InvalidArgument

__all__ = ["COMPARE_OPS", "ValueComparison", "value_comparison"]

#: The operators check-and-mutate accepts (happybase / HBase shell spellings).
COMPARE_OPS = ("<", "<=", "=", "==", "!=", ">=", ">")


@dataclass(frozen=True, slots=True)
class ValueComparison:
    """``expected OP stored`` as a callable: ``cmp(stored_value_or_None) -> bool``.

    >>> value_comparison(b"b", "<")(b"c"), value_comparison(None, "=")(None)
    (True, True)
    """

    op: str
    expected: bytes | None

    def __call__(self, cur: bytes | None) -> bool:
        e = self.expected
        op = self.op
        if e is None or e == b"":
            if op == "=":
                return cur is None or cur == b""
            return cur is not None and cur != b""  # "!=" (checked at construction)
        if cur is None:
            return False
        if op == "=":
            return e == cur
        if op == "!=":
            return e != cur
        if op == "<":
            return e < cur
        if op == "<=":
            return e <= cur
        if op == ">=":
            return e >= cur
        return e > cur  # ">"


def value_comparison(expected: bytes | None, op: str = "=") -> ValueComparison:
    """Validate ``(expected, op)`` and return the comparison.

    Raises InvalidArgument for an unknown operator, a non-bytes value, or an
    ordering operator used with ``None``.
    """
    if op not in COMPARE_OPS:
        raise InvalidArgument(
            f"unknown compare operator {op!r}; use one of {', '.join(COMPARE_OPS)}"
        )
    if op == "==":
        op = "="
    if expected is not None and not isinstance(expected, bytes):
        raise InvalidArgument(f"compare value must be bytes or None, got {expected!r}")
    if (expected is None or expected == b"") and op not in ("=", "!="):
        raise InvalidArgument(f"value None can only be checked with '=' or '!=', not {op!r}")
    return ValueComparison(op, expected)
