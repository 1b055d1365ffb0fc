"""The filter language (hbase-happybase.md section 3): forms, precedence, errors."""

from __future__ import annotations

import pytest

from hedgerow.errors import FilterSyntaxError
from hedgerow.model.filters import FILTER_NAMES, parse_filter
from hedgerow.model.filters.parser import MAX_DEPTH

from ._data import TABLE, run

A, B, C = "PrefixFilter('a')", "PrefixFilter('b')", "PrefixFilter('c')"
RA, RB, RC = "PrefixFilter(b'a')", "PrefixFilter(b'b')", "PrefixFilter(b'c')"


def tree(text: str | bytes) -> str:
    return repr(parse_filter(text))


# -- every registered name, every argument form ------------------------------------

VALID = [
    ("KeyOnlyFilter()", "KeyOnlyFilter(False)"),
    ("KeyOnlyFilter(true)", "KeyOnlyFilter(True)"),
    ("KeyOnlyFilter(FaLsE)", "KeyOnlyFilter(False)"),
    ("FirstKeyOnlyFilter()", "FirstKeyOnlyFilter()"),
    ("PrefixFilter('row')", "PrefixFilter(b'row')"),
    ("ColumnPrefixFilter('q')", "ColumnPrefixFilter(b'q')"),
    ("MultipleColumnPrefixFilter('b', 'a')", "MultipleColumnPrefixFilter([b'a', b'b'])"),
    ("MultipleColumnPrefixFilter()", "MultipleColumnPrefixFilter([])"),
    ("ColumnCountGetFilter(4)", "ColumnCountGetFilter(4)"),
    ("PageFilter(10)", "PageFilter(10)"),
    ("PageFilter(9223372036854775807)", "PageFilter(9223372036854775807)"),
    ("ColumnPaginationFilter(3, 5)", "ColumnPaginationFilter(3, 5)"),
    ("InclusiveStopFilter('row9')", "InclusiveStopFilter(b'row9')"),
    ("TimestampsFilter(5, 1, 9)", "TimestampsFilter([1, 5, 9])"),
    ("TimestampsFilter()", "TimestampsFilter([])"),
    ("RowFilter(<=, 'binary:abc')", "RowFilter(LESS_OR_EQUAL, BinaryComparator(b'abc'))"),
    ("RowFilter(<, 'binary:abc')", "RowFilter(LESS, BinaryComparator(b'abc'))"),
    ("FamilyFilter(=, 'binaryprefix:f')", "FamilyFilter(EQUAL, BinaryPrefixComparator(b'f'))"),
    (
        "QualifierFilter(!=, 'regexstring:^q[0-9]')",
        "QualifierFilter(NOT_EQUAL, RegexStringComparator(b'^q[0-9]'))",
    ),
    ("ValueFilter(=, 'substring:ABC')", "ValueFilter(EQUAL, SubstringComparator(b'abc'))"),
    ("ValueFilter(>, 'binary:')", "ValueFilter(GREATER, BinaryComparator(b''))"),
    ("ValueFilter(>=, 'binary:a:b')", "ValueFilter(GREATER_OR_EQUAL, BinaryComparator(b'a:b'))"),
    (
        "ColumnRangeFilter('abc', true, 'xyz', false)",
        "ColumnRangeFilter(b'abc', True, b'xyz', False)",
    ),
    ("ColumnRangeFilter('', false, '', TRUE)", "ColumnRangeFilter(None, False, None, True)"),
    (
        "SingleColumnValueFilter('f', 'q', =, 'binary:v')",
        "SingleColumnValueFilter(b'f', b'q', EQUAL, BinaryComparator(b'v'), "
        "filter_if_missing=False, latest_version_only=True)",
    ),
    (
        "SingleColumnValueFilter('f', 'q', !=, 'substring:v', true, false)",
        "SingleColumnValueFilter(b'f', b'q', NOT_EQUAL, SubstringComparator(b'v'), "
        "filter_if_missing=True, latest_version_only=False)",
    ),
    (
        "SingleColumnValueExcludeFilter('f', 'q', <, 'binary:v')",
        "SingleColumnValueExcludeFilter(b'f', b'q', LESS, BinaryComparator(b'v'), "
        "filter_if_missing=False, latest_version_only=True)",
    ),
    (
        "SingleColumnValueExcludeFilter('f', 'q', <, 'binary:v', false, false)",
        "SingleColumnValueExcludeFilter(b'f', b'q', LESS, BinaryComparator(b'v'), "
        "filter_if_missing=False, latest_version_only=False)",
    ),
    ("DependentColumnFilter('f', 'q')", "DependentColumnFilter(b'f', b'q', False, NO_OP, None)"),
    (
        "DependentColumnFilter('f', 'q', true)",
        "DependentColumnFilter(b'f', b'q', True, NO_OP, None)",
    ),
    (
        "DependentColumnFilter('f', 'q', false, =, 'binary:v')",
        "DependentColumnFilter(b'f', b'q', False, EQUAL, BinaryComparator(b'v'))",
    ),
    (
        "ColumnValueFilter('f', 'q', >, 'binary:5')",
        "ColumnValueFilter(b'f', b'q', GREATER, BinaryComparator(b'5'))",
    ),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_argument_forms(text: str, expected: str) -> None:
    assert tree(text) == expected


def test_all_nineteen_names_are_registered_and_covered() -> None:
    assert len(FILTER_NAMES) == 19
    assert {text.split("(")[0] for text, _ in VALID} == set(FILTER_NAMES)


# -- precedence (reference guide "Compound Filters and Operators") ------------------


def test_guide_compound_example() -> None:
    text = (
        "(RowFilter (=, 'binary:Row 1') AND TimestampsFilter (74689, 89734)) "
        "OR ColumnRangeFilter ('abc', true, 'xyz', false)"
    )
    assert tree(text) == (
        "FilterList(MUST_PASS_ONE, [FilterList(MUST_PASS_ALL, ["
        "RowFilter(EQUAL, BinaryComparator(b'Row 1')), TimestampsFilter([74689, 89734])]), "
        "ColumnRangeFilter(b'abc', True, b'xyz', False)])"
    )


def test_guide_skip_example() -> None:
    # The guide writes "SKIP ValueFilter (0)", which HBase itself rejects (2 args needed).
    with pytest.raises(FilterSyntaxError, match="wrong number of arguments for ValueFilter"):
        parse_filter("SKIP ValueFilter (0)")
    assert tree("SKIP ValueFilter (=, 'binary:0')") == (
        "SkipFilter(ValueFilter(EQUAL, BinaryComparator(b'0')))"
    )


def test_guide_spelling_timestamps_filter() -> None:
    with pytest.raises(FilterSyntaxError, match="did you mean 'TimestampsFilter'"):
        parse_filter("TimeStampsFilter (74689, 89734)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            f"{A} AND {B} OR {C}",
            f"FilterList(MUST_PASS_ONE, [FilterList(MUST_PASS_ALL, [{RA}, {RB}]), {RC}])",
        ),
        (
            f"{A} OR {B} AND {C}",
            f"FilterList(MUST_PASS_ONE, [{RA}, FilterList(MUST_PASS_ALL, [{RB}, {RC}])])",
        ),
        (
            f"{A} AND SKIP {B} OR {C}",
            f"FilterList(MUST_PASS_ONE, [FilterList(MUST_PASS_ALL, [{RA}, SkipFilter({RB})]), {RC}])",
        ),
        (f"SKIP {A} AND {B}", f"FilterList(MUST_PASS_ALL, [SkipFilter({RA}), {RB}])"),
        (f"WHILE {A} OR {B}", f"FilterList(MUST_PASS_ONE, [WhileMatchFilter({RA}), {RB}])"),
        (f"WHILE ({A} OR {B})", f"WhileMatchFilter(FilterList(MUST_PASS_ONE, [{RA}, {RB}]))"),
        (f"SKIP WHILE {A}", f"SkipFilter(WhileMatchFilter({RA}))"),
        (f"{A} AND {B} AND {C}", f"FilterList(MUST_PASS_ALL, [{RA}, {RB}, {RC}])"),
        (f"{A} OR {B} OR {C}", f"FilterList(MUST_PASS_ONE, [{RA}, {RB}, {RC}])"),
        (
            f"({A} AND {B}) AND {C}",
            f"FilterList(MUST_PASS_ALL, [FilterList(MUST_PASS_ALL, [{RA}, {RB}]), {RC}])",
        ),
        (
            f"{A} AND ({B} OR {C})",
            f"FilterList(MUST_PASS_ALL, [{RA}, FilterList(MUST_PASS_ONE, [{RB}, {RC}])])",
        ),
        (f"((({A})))", RA),
        (f"{A}AND({B})", f"FilterList(MUST_PASS_ALL, [{RA}, {RB}])"),
        (f"SKIP({A})", f"SkipFilter({RA})"),
    ],
)
def test_precedence(text: str, expected: str) -> None:
    assert tree(text) == expected


# -- lexical details ------------------------------------------------------------------


def test_quotes_escapes_and_encodings() -> None:
    assert (
        tree("ValueFilter(=, 'binary:it''s')") == 'ValueFilter(EQUAL, BinaryComparator(b"it\'s"))'
    )
    assert tree("PrefixFilter('''')") == 'PrefixFilter(b"\'")'
    assert tree("PrefixFilter('a)b')") == "PrefixFilter(b'a)b')"
    assert tree("PrefixFilter('caf\u00e9')") == "PrefixFilter(b'caf\\xc3\\xa9')"  # str -> UTF-8
    assert tree(b"PrefixFilter('\xff\x00')") == "PrefixFilter(b'\\xff\\x00')"  # bytes kept
    assert repr(parse_filter(bytearray(b"KeyOnlyFilter()"))) == "KeyOnlyFilter(False)"  # type: ignore[arg-type]


def test_separators_and_whitespace() -> None:
    assert (
        tree("ColumnRangeFilter('a' true 'b' false)")
        == "ColumnRangeFilter(b'a', True, b'b', False)"
    )
    assert tree("\tPrefixFilter\t(\n'a'\n)\t") == RA
    assert tree("PrefixFilter ( 'a' , )") == RA


def test_parsed_filters_run() -> None:
    f = parse_filter(
        "SingleColumnValueFilter('a', 'q1', =, 'binary:grape', true, true) AND KeyOnlyFilter()"
    )
    assert run(f, TABLE) == [
        "row2 a:q1@3=",
        "row2 a:q2@3=",
        "row2 a:q2@1=",
        "row2 b:q2@5=",
    ]
    f = parse_filter("WHILE RowFilter(<, 'binary:row3') AND QualifierFilter(=, 'regexstring:1$')")
    assert run(f, TABLE, max_versions=1) == [
        "row1 a:q1@3=apple",
        "row1 a:x1@1=cherry",
        "row1 b:q1@5=date",
        "row2 a:q1@3=grape",
    ]


# -- errors -----------------------------------------------------------------------------

WRONG_COUNTS = [
    "KeyOnlyFilter(true, false)",
    "FirstKeyOnlyFilter('a')",
    "PrefixFilter()",
    "PrefixFilter('a', 'b')",
    "ColumnPrefixFilter()",
    "ColumnCountGetFilter()",
    "ColumnCountGetFilter(1, 2)",
    "PageFilter()",
    "ColumnPaginationFilter(1)",
    "ColumnPaginationFilter(1, 2, 3)",
    "InclusiveStopFilter()",
    "RowFilter(=)",
    "FamilyFilter(=, 'binary:a', 'x')",
    "QualifierFilter()",
    "ValueFilter(0)",
    "ColumnRangeFilter('a', true, 'b')",
    "SingleColumnValueFilter('f', 'q', =)",
    "SingleColumnValueFilter('f', 'q', =, 'binary:v', true)",
    "SingleColumnValueExcludeFilter('f', 'q', =, 'binary:v', true, true, true)",
    "DependentColumnFilter('f')",
    "DependentColumnFilter('f', 'q', true, =)",
    "DependentColumnFilter('f', 'q', true, =, 'binary:v', 'x')",
    "ColumnValueFilter('f', 'q', =)",
]


@pytest.mark.parametrize("text", WRONG_COUNTS)
def test_wrong_argument_counts(text: str) -> None:
    name = text.split("(")[0]
    with pytest.raises(FilterSyntaxError, match=f"wrong number of arguments for {name}") as e:
        parse_filter("KeyOnlyFilter() AND " + text)
    assert e.value.position == len("KeyOnlyFilter() AND ")


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("FooFilter()", "unknown filter name 'FooFilter'", 0),
        ("prefixfilter('a')", "did you mean 'PrefixFilter'", 0),
        ("ValueFilter(=, 'foo:bar')", "unknown comparator type 'foo'", 15),
        ("ValueFilter(=, 'Binary:bar')", "unknown comparator type 'Binary'", 15),
        ("ValueFilter(=, 'binary')", "must look like 'type:value'", 15),
        (
            "ValueFilter(<, 'regexstring:a')",
            "regexstring comparator can only be used with = or !=",
            15,
        ),
        ("RowFilter(>=, 'substring:a')", "substring comparator can only be used with = or !=", 14),
        ("ValueFilter(=, 'regexstring:(')", "invalid regular expression", 15),
        ("ValueFilter(==, 'binary:a')", "invalid compare operator '=='", 12),
        ("ValueFilter('=', 'binary:a')", "invalid compare operator", 12),
        ("ValueFilter(=, binary:a)", "expected a quoted string", 15),
        ("PrefixFilter(abc)", "expected a quoted string", 13),
        ("PageFilter('5')", "expected an integer", 11),
        ("PageFilter(5.5)", "expected an integer", 11),
        ("PageFilter(-)", "expected an integer", 11),
        ("PageFilter(-1)", "page size must be >= 0", 0),
        ("PageFilter(9223372036854775808)", "out of long range", 11),
        ("ColumnCountGetFilter(2147483648)", "out of int range", 21),
        ("ColumnPaginationFilter(1, -2)", "offset must be >= 0", 0),
        ("TimestampsFilter(1, -2)", "must be >= 0", 0),
        ("KeyOnlyFilter(yes)", "expected true or false", 14),
        ("MultipleColumnPrefixFilter('a', 'a')", "distinct", 0),
        ("(PrefixFilter('a')", "mismatched parenthesis", 18),
        ("PrefixFilter('a'))", "mismatched parenthesis", 17),
        (")", "mismatched parenthesis", 0),
        ("(", "found the end", 1),
        ("()", "mismatched parenthesis", 1),
        ("PrefixFilter('a", "unterminated quoted string", 13),
        ("PrefixFilter('a''", "unterminated quoted string", 13),
        ("PrefixFilter('a'", "unterminated argument list", 16),
        ("PrefixFilter 'a'", "expected '(' after filter name 'PrefixFilter'", 13),
        ("PrefixFilter", "expected '(' after filter name", 12),
        ("PrefixFilter(('a'))", "unexpected '('", 13),
        ("", "empty filter string", 0),
        ("   ", "empty filter string", 0),
        ("AND PrefixFilter('a')", "found operator AND", 0),
        ("PrefixFilter('a') AND", "found the end", 21),
        ("PrefixFilter('a') AND OR PrefixFilter('b')", "found operator OR", 22),
        ("PrefixFilter('a') PrefixFilter('b')", "expected AND, OR or the end", 18),
        ("PrefixFilter('a') and PrefixFilter('b')", "expected '(' after filter name 'and'", 22),
        ("SKIP", "found the end", 4),
        ("SKIP AND PrefixFilter('a')", "found operator AND", 5),
        ("'a'", 'unexpected "\'"', 0),
        (", PrefixFilter('a')", "unexpected ','", 0),
    ],
)
def test_errors_name_problem_and_position(text: str, message: str, position: int) -> None:
    with pytest.raises(FilterSyntaxError) as e:
        parse_filter(text)
    assert message in str(e.value)
    assert e.value.position == position
    assert f"(at position {position})" in str(e.value)


def test_nesting_limit() -> None:
    ok = "(" * MAX_DEPTH + "KeyOnlyFilter()" + ")" * MAX_DEPTH
    assert tree(ok) == "KeyOnlyFilter(False)"
    assert tree("SKIP " * MAX_DEPTH + "KeyOnlyFilter()").count("SkipFilter") == MAX_DEPTH
    for deep in (
        "(" * (MAX_DEPTH + 1) + "KeyOnlyFilter()" + ")" * (MAX_DEPTH + 1),
        "(" * 100_000,
        "SKIP " * (MAX_DEPTH + 1) + "KeyOnlyFilter()",
        "WHILE (" * 5000 + "KeyOnlyFilter()" + ")" * 5000,
    ):
        with pytest.raises(FilterSyntaxError, match="nested deeper than"):
            parse_filter(deep)


def test_non_string_input() -> None:
    with pytest.raises(FilterSyntaxError, match="str or bytes"):
        parse_filter(42)  # type: ignore[arg-type]


def test_long_inputs_are_linear() -> None:
    many = " OR ".join(f"PrefixFilter('{i}')" for i in range(5000))
    assert len(parse_filter(many).filters) == 5000  # type: ignore[attr-defined]
    with pytest.raises(FilterSyntaxError, match="unterminated quoted string"):
        parse_filter("PrefixFilter('" + "x" * 1_000_000)
    with pytest.raises(FilterSyntaxError, match="out of long range"):
        parse_filter("PageFilter(" + "9" * 100_000 + ")")
