"""Comparators and CompareOperator direction (hbase-happybase.md section 3.3)."""

from __future__ import annotations

import re
import time

import pytest

from hedgerow.errors import FilterSyntaxError, InvalidArgument
from hedgerow.model.filters import (
    BinaryComparator,
    BinaryPrefixComparator,
    BitComparator,
    BitwiseOp,
    CompareOperator,
    LongComparator,
    NullComparator,
    RegexStringComparator,
    RowFilter,
    SubstringComparator,
    ValueFilter,
)
from hedgerow.model.filters.comparators import passes
from hedgerow.model.filters.parser import parse_filter

from ._data import TABLE, row_keys, run

Op = CompareOperator


def test_binary_comparator_is_comparator_value_vs_cell() -> None:
    c = BinaryComparator(b"b")
    assert c.compare_to(b"a") > 0  # comparator value sorts after the cell bytes
    assert c.compare_to(b"b") == 0
    assert c.compare_to(b"c") < 0
    assert c.compare_to(b"ba") < 0  # shorter sorts first
    assert BinaryComparator(b"\xff").compare_to(b"\x01") > 0  # unsigned


def test_binary_prefix_comparator() -> None:
    c = BinaryPrefixComparator(b"ab")
    assert c.compare_to(b"abzzz") == 0
    assert c.compare_to(b"ab") == 0
    assert c.compare_to(b"a") > 0  # shorter cell compared whole
    assert c.compare_to(b"ac") < 0
    assert c.compare_to(b"aa\xff") > 0


@pytest.mark.parametrize(
    ("op", "kept"),
    [
        (Op.LESS, ["row1"]),
        (Op.LESS_OR_EQUAL, ["row1", "row2"]),
        (Op.EQUAL, ["row2"]),
        (Op.NOT_EQUAL, ["row1", "row3"]),
        (Op.GREATER_OR_EQUAL, ["row2", "row3"]),
        (Op.GREATER, ["row3"]),
        (Op.NO_OP, []),
    ],
)
def test_row_filter_direction_means_row_op_value(op: CompareOperator, kept: list[str]) -> None:
    # RowFilter(<, 'binary:row2') keeps rows whose key is LESS than row2.
    assert row_keys(RowFilter(op, BinaryComparator(b"row2")), TABLE) == kept


def test_passes_table() -> None:
    assert [passes(op, -1) for op in Op] == [False, False, False, True, True, True, False]
    assert [passes(op, 0) for op in Op] == [False, True, True, False, True, False, False]
    assert [passes(op, 1) for op in Op] == [True, True, False, True, False, False, False]


def test_binary_prefix_with_value_filter() -> None:
    f = ValueFilter(Op.EQUAL, BinaryPrefixComparator(b"ap"))
    assert run(f, TABLE) == [
        "row1 a:q1@3=apple",
        "row1 a:q1@2=apricot",
        "row2 a:q2@3=apple",
        "row3 b:q1@4=apple",
    ]


def test_regex_comparator_searches_with_dotall() -> None:
    c = RegexStringComparator(b"p.l")
    assert c.compare_to(b"apple") == 0  # find(), not a full match
    assert c.compare_to(b"grape") == 1
    assert RegexStringComparator("a.b").compare_to(b"a\nb") == 0  # DOTALL
    assert RegexStringComparator("^caf\u00e9$").compare_to("caf\u00e9".encode()) == 0  # UTF-8
    latin = RegexStringComparator("\u00e9", charset="iso-8859-1")
    assert latin.compare_to(b"caf\xe9") == 0
    assert RegexStringComparator(b"x").compare_to(b"\xff\xfe") == 1  # undecodable is fine


def test_regex_comparator_rejects_bad_pattern() -> None:
    with pytest.raises(InvalidArgument, match="invalid regular expression"):
        RegexStringComparator(b"(")
    with pytest.raises(InvalidArgument, match="charset"):
        RegexStringComparator(b"a", charset="no-such-charset")


def test_regex_comparator_is_linear_time() -> None:
    """Issue 11 finding 6: ``(a+)+$`` over 28 'a's and a 'b' backtracks 2^28 times in
    Python's ``re`` (about 35 s here, holding the GIL); RE2 answers at once."""
    c = RegexStringComparator("(a+)+$")
    started = time.perf_counter()
    assert c.compare_to(b"a" * 28 + b"b") == 1
    assert c.compare_to(b"a" * 100_000 + b"b") == 1
    assert c.compare_to(b"b" + b"a" * 28) == 0
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [
        ("(a)\\1", "a backreference (\\1)"),
        ("(?P<x>a)(?P=x)", "a named backreference"),
        ("(?<x>a)\\k<x>", "a named backreference"),
        ("a(?=b)", "lookahead"),
        ("a(?!b)", "negative lookahead"),
        ("(?<=a)b", "lookbehind"),
        ("(?<!a)b", "negative lookbehind"),
        ("(?>a+)b", "an atomic group"),
        ("a*+b", "a possessive quantifier"),
        ("a++b", "a possessive quantifier"),
        ("a\\Z", "\\Z (use \\z"),
        ("a{1,1001}", "a repetition count over 1000"),
    ],
)
def test_regex_comparator_names_the_unsupported_feature(pattern: str, feature: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        RegexStringComparator(pattern)
    msg = str(e.value)
    assert repr(pattern) in msg and feature in msg and "RE2" in msg, msg
    with pytest.raises(FilterSyntaxError) as f:  # the filter language says the same
        parse_filter("ValueFilter(=, 'regexstring:" + pattern + "')")
    assert feature in str(f.value) and f.value.position == 15


def test_regex_comparator_flags() -> None:
    assert RegexStringComparator("A.B", re.IGNORECASE | re.DOTALL).compare_to(b"xa\nb") == 0
    assert RegexStringComparator("a.b", 0).compare_to(b"a\nb") == 1  # no DOTALL
    assert RegexStringComparator("^b$", re.MULTILINE).compare_to(b"a\nb\nc") == 0
    assert RegexStringComparator("^b$").compare_to(b"a\nb\nc") == 1
    with pytest.raises(InvalidArgument, match="VERBOSE"):
        RegexStringComparator("a b", re.VERBOSE)
    # what Java supports and RE2 also does: quoting and POSIX classes
    assert RegexStringComparator("\\Qa.b\\E").compare_to(b"xa.by") == 0
    assert RegexStringComparator("\\Qa.b\\E").compare_to(b"axb") == 1
    assert RegexStringComparator("^[[:digit:]]+$").compare_to(b"123") == 0


def test_substring_comparator_is_case_insensitive() -> None:
    c = SubstringComparator(b"PpL")
    assert c.compare_to(b"APPLE") == 0
    assert c.compare_to(b"apple pie") == 0
    assert c.compare_to(b"grape") == 1
    assert c.value == b"ppl"


def test_long_comparator() -> None:
    c = LongComparator(10)
    assert c.compare_to((5).to_bytes(8, "big", signed=True)) > 0
    assert c.compare_to((10).to_bytes(8, "big", signed=True)) == 0
    assert c.compare_to((-1).to_bytes(8, "big", signed=True)) > 0  # signed, not unsigned
    assert passes(Op.GREATER, c.compare_to((11).to_bytes(8, "big", signed=True)))
    with pytest.raises(InvalidArgument, match="not 8"):
        c.compare_to(b"abc")
    with pytest.raises(InvalidArgument):
        LongComparator(1 << 63)


def test_bit_comparator() -> None:
    assert BitComparator(b"\x01\x00", BitwiseOp.AND).compare_to(b"\x01\xff") == 0
    assert BitComparator(b"\x01\x00", BitwiseOp.AND).compare_to(b"\x02\xff") == 1
    assert BitComparator(b"\x00", BitwiseOp.OR).compare_to(b"\x00") == 1
    assert BitComparator(b"\x0f", BitwiseOp.XOR).compare_to(b"\x0f") == 1
    assert BitComparator(b"\x0f", BitwiseOp.XOR).compare_to(b"\x0e") == 0
    assert BitComparator(b"\x0f", BitwiseOp.AND).compare_to(b"\x0f\x00") == 1  # length differs


def test_null_comparator_matches_empty_value() -> None:
    assert NullComparator().compare_to(b"") == 0
    assert NullComparator().compare_to(b"x") == 1


def test_comparator_equality_and_repr() -> None:
    assert BinaryComparator(b"a") == BinaryComparator(b"a")
    assert BinaryComparator(b"a") != BinaryPrefixComparator(b"a")
    assert len({BinaryComparator(b"a"), BinaryComparator(b"a")}) == 1
    assert repr(LongComparator(3)) == "LongComparator(3)"
    assert repr(BitComparator(b"\x01", BitwiseOp.OR)) == "BitComparator(b'\\x01', OR)"
