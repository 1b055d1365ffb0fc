"""Property tests: parse_filter on random and mutated input only ever raises FilterSyntaxError.

Two tests x 5,000 examples (10,000 parses in the default run), each example under
a 200 ms deadline.  Every filter that does parse must also describe itself and
run over the sample table without error.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hedgerow.errors import FilterSyntaxError
from hedgerow.model.filters import FILTER_NAMES, Filter, apply_filter_to_rows, parse_filter

from ._data import TABLE

SEEDS = [
    "KeyOnlyFilter()",
    "KeyOnlyFilter(true)",
    "FirstKeyOnlyFilter()",
    "PrefixFilter('row1')",
    "ColumnPrefixFilter('q')",
    "MultipleColumnPrefixFilter('q1', 'x')",
    "ColumnCountGetFilter(2)",
    "PageFilter(2)",
    "ColumnPaginationFilter(1, 1)",
    "InclusiveStopFilter('row2')",
    "TimestampsFilter(1, 3, 5)",
    "RowFilter(<=, 'binary:row2')",
    "FamilyFilter(=, 'binaryprefix:b')",
    "QualifierFilter(!=, 'regexstring:^q[0-9]+$')",
    "ValueFilter(=, 'substring:APP')",
    "ColumnRangeFilter('q1', true, 'x1', false)",
    "SingleColumnValueFilter('a', 'q1', =, 'binary:grape')",
    "SingleColumnValueFilter('a', 'q1', !=, 'binary:grape', true, false)",
    "SingleColumnValueExcludeFilter('a', 'q1', >, 'binary:a', false, true)",
    "DependentColumnFilter('a', 'q1')",
    "DependentColumnFilter('a', 'q1', true)",
    "DependentColumnFilter('a', 'q1', false, =, 'binary:apple')",
    "ColumnValueFilter('b', 'q1', >=, 'binary:d')",
    "(RowFilter (=, 'binary:Row 1') AND TimestampsFilter (74689, 89734)) "
    "OR ColumnRangeFilter ('abc', true, 'xyz', false)",
    "SKIP ValueFilter (!=, 'binary:0') AND WHILE PrefixFilter('row')",
    "PrefixFilter('it''s') OR (KeyOnlyFilter() AND (FirstKeyOnlyFilter()))",
]

TOKENS = [
    "(",
    ")",
    "'",
    "''",
    ",",
    " ",
    "\t",
    "\n",
    "AND",
    "OR",
    "SKIP",
    "WHILE",
    " AND ",
    " OR ",
    "SKIP ",
    "WHILE ",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "true",
    "FALSE",
    "-1",
    "0",
    "2147483648",
    "99999999999999999999",
    "'binary:",
    "'binaryprefix:",
    "'regexstring:",
    "'substring:",
    "'regexstring:(a*)*b'",
    "'regexstring:[z-a]'",
    ":",
    "\x00",
    "\xff",
    "\u00e9",
    "\ud800",
    *FILTER_NAMES,
    *SEEDS,
]

_GRAMMAR_CHARS = st.sampled_from(list("()',=<>! :-0123456789tTfF\t\n\\") + ["AND", "OR"])
_TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(_GRAMMAR_CHARS, st.sampled_from(TOKENS), st.characters()), max_size=60).map(
        "".join
    ),
    st.binary(max_size=200),
)


def _check(text: str | bytes) -> None:
    try:
        f = parse_filter(text)
    except FilterSyntaxError as exc:
        assert exc.position is None or 0 <= exc.position <= len(text)
        assert str(exc)
        return
    assert isinstance(f, Filter)
    assert f.describe()
    apply_filter_to_rows(f, TABLE, max_versions=2)


@settings(
    max_examples=5000,
    deadline=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=_TEXT)
def test_random_text_raises_only_filter_syntax_error(text: str | bytes) -> None:
    _check(text)


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    s = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 5))
        i = draw(st.integers(0, len(s)))
        j = draw(st.integers(i, min(len(s), i + 12)))
        if op == 0:  # insert a token
            s = s[:i] + draw(st.sampled_from(TOKENS)) + s[i:]
        elif op == 1:  # delete a slice
            s = s[:i] + s[j:]
        elif op == 2:  # replace a slice by a random character
            s = s[:i] + draw(st.characters()) + s[j:]
        elif op == 3:  # duplicate a slice
            s = s[:j] + s[i:j] + s[j:]
        elif op == 4:  # combine with another seed
            s = s + draw(st.sampled_from([" AND ", " OR ", " ", ""])) + draw(st.sampled_from(SEEDS))
        else:  # wrap
            s = (
                draw(st.sampled_from(["(", "SKIP ", "WHILE ", "SKIP(", ""]))
                + s
                + draw(st.sampled_from([")", "", "))"]))
            )
    return s


@settings(
    max_examples=5000,
    deadline=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(text=_mutated(), as_bytes=st.booleans())
def test_mutated_filters_raise_only_filter_syntax_error(text: str, as_bytes: bool) -> None:
    _check(text.encode("utf-8", "surrogatepass") if as_bytes else text)


def test_seeds_are_valid() -> None:
    for seed in SEEDS:
        assert isinstance(parse_filter(seed), Filter)
