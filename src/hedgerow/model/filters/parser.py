"""The filter language: ``parse_filter("PrefixFilter('a') AND ValueFilter(=, 'binary:x')")``.

Role: turns a Thrift ``TScan.filterString`` / shell ``FILTER => "..."`` string into a
Filter tree; used by the gateways and the client API.
Format: HBase's filter language (``org.apache.hadoop.hbase.filter.ParseFilter``; the
HBase Reference Guide's "Thrift API and Filter Language" chapter).  Grammar::

    filter    := or_expr
    or_expr   := and_expr ( "OR" and_expr )*          -> FilterList(MUST_PASS_ONE), flattened
    and_expr  := unary ( "AND" unary )*               -> FilterList(MUST_PASS_ALL), flattened
    unary     := ( "SKIP" | "WHILE" ) unary | primary -> SkipFilter / WhileMatchFilter
    primary   := "(" or_expr ")" | NAME "(" args ")"
    args      := ( arg ( sep arg )* )?   sep := "," and/or whitespace (as HBase)
    arg       := 'quoted' | -?[0-9]+ | true | false (any case) | < <= = != >= >
    quoted    := "'" ( any char but "'" | "''" )* "'"
    comparator:= 'binary:v' | 'binaryprefix:v' | 'regexstring:v' | 'substring:v'
                 (regexstring: RE2 syntax, see RegexStringComparator for the
                 differences from Java's; an unsupported construct is a
                 FilterSyntaxError naming it)

Keywords are case-sensitive; SKIP/WHILE bind tightest, then AND, then OR.  A
``str`` is encoded as UTF-8 (HBase ``Bytes.toBytes``); ``bytes`` are read as
ISO-8859-1 so every byte survives into the literals.  Positions in errors are
character offsets (= byte offsets for ``bytes`` input).
Invariants: ``parse_filter`` raises only FilterSyntaxError, runs in time linear in
the input, and nests at most ``MAX_DEPTH`` parentheses/SKIP/WHILE levels.
Concurrency: pure function.
Hot path: none (once per scan).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from hedgerow.errors import FilterSyntaxError, InvalidArgument
from hedgerow.model.filters.base import Filter
from hedgerow.model.filters.column_filters import (
    ColumnCountGetFilter,
    ColumnPaginationFilter,
    ColumnPrefixFilter,
    ColumnRangeFilter,
    MultipleColumnPrefixFilter,
    TimestampsFilter,
)
from hedgerow.model.filters.comparators import (
    BinaryComparator,
    BinaryPrefixComparator,
    ByteArrayComparable,
    CompareOperator,
    RegexStringComparator,
    SubstringComparator,
)
from hedgerow.model.filters.compare_filters import (
    DependentColumnFilter,
    FamilyFilter,
    QualifierFilter,
    RowFilter,
    ValueFilter,
)
from hedgerow.model.filters.key_filters import (
    FirstKeyOnlyFilter,
    InclusiveStopFilter,
    KeyOnlyFilter,
    PageFilter,
    PrefixFilter,
)
from hedgerow.model.filters.list_filters import (
    FilterList,
    FilterListOperator,
    SkipFilter,
    WhileMatchFilter,
)
from hedgerow.model.filters.value_filters import (
    ColumnValueFilter,
    SingleColumnValueExcludeFilter,
    SingleColumnValueFilter,
)

__all__ = ["FILTER_NAMES", "MAX_DEPTH", "parse_filter"]

#: Deepest nesting of parentheses / SKIP / WHILE accepted.
MAX_DEPTH = 100

_WHITESPACE = " \t\r\n"
_WORD_END = frozenset(_WHITESPACE + "()',")
_BARE_END = frozenset(_WHITESPACE + ",()")
_KEYWORDS = frozenset({"AND", "OR", "SKIP", "WHILE"})
_INTEGER = re.compile(r"-?[0-9]+")
_INT32 = (-(1 << 31), (1 << 31) - 1)
_INT64 = (-(1 << 63), (1 << 63) - 1)
_OPERATORS = {op.value: op for op in CompareOperator if op is not CompareOperator.NO_OP}


@dataclass(frozen=True, slots=True)
class _Arg:
    quoted: bool
    text: str  # unescaped body for quoted arguments, raw text otherwise
    pos: int


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(" ")" "AND" "OR" "SKIP" "WHILE" "FILTER" "END"
    pos: int
    name: str = ""
    args: tuple[_Arg, ...] = ()


def _lex(text: str) -> list[_Token]:
    """Split ``text`` into tokens; a filter call ``Name(args)`` is one token."""
    tokens: list[_Token] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c in _WHITESPACE:
            i += 1
            continue
        if c == "(" or c == ")":
            tokens.append(_Token(c, i))
            i += 1
            continue
        if c == "'" or c == ",":
            raise FilterSyntaxError(f"unexpected {c!r}: expected a filter name", i)
        start = i
        while i < n and text[i] not in _WORD_END:
            i += 1
        word = text[start:i]
        if word in _KEYWORDS:
            tokens.append(_Token(word, start))
            continue
        j = i
        while j < n and text[j] in _WHITESPACE:
            j += 1
        if j >= n or text[j] != "(":
            raise FilterSyntaxError(f"expected '(' after filter name {word!r}", j)
        args, i = _lex_args(text, j + 1, word, j)
        tokens.append(_Token("FILTER", start, word, args))
    tokens.append(_Token("END", n))
    return tokens


def _lex_args(text: str, i: int, name: str, open_pos: int) -> tuple[tuple[_Arg, ...], int]:
    """Read arguments from just after ``(`` to the matching ``)``; return them and the next index."""
    args: list[_Arg] = []
    n = len(text)
    while True:
        while i < n and (text[i] in _WHITESPACE or text[i] == ","):
            i += 1
        if i >= n:
            raise FilterSyntaxError(
                f"unterminated argument list of {name!r}: no ')' for the '(' at {open_pos}", n
            )
        c = text[i]
        if c == ")":
            return tuple(args), i + 1
        if c == "(":
            raise FilterSyntaxError(f"unexpected '(' in the argument list of {name!r}", i)
        if c == "'":
            start = i
            pieces: list[str] = []
            j = i + 1
            while True:
                k = text.find("'", j)
                if k < 0:
                    raise FilterSyntaxError(
                        f"unterminated quoted string in the arguments of {name!r}", start
                    )
                if k + 1 < n and text[k + 1] == "'":
                    pieces.append(text[j : k + 1])  # '' is an escaped quote
                    j = k + 2
                    continue
                pieces.append(text[j:k])
                i = k + 1
                break
            args.append(_Arg(True, "".join(pieces), start))
            continue
        start = i
        while i < n and text[i] not in _BARE_END:
            i += 1
        args.append(_Arg(False, text[start:i], start))


class _Parser:
    """Recursive descent over the token list; ``to_bytes`` encodes literals."""

    def __init__(self, tokens: list[_Token], to_bytes: Callable[[str], bytes]) -> None:
        self.tokens = tokens
        self.i = 0
        self.to_bytes = to_bytes

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Filter:
        if self.peek().kind == "END":
            raise FilterSyntaxError("empty filter string", 0)
        result = self.parse_or(0)
        tok = self.peek()
        if tok.kind == ")":
            raise FilterSyntaxError("mismatched parenthesis: ')' without a matching '('", tok.pos)
        if tok.kind != "END":
            what = f"filter {tok.name!r}" if tok.kind == "FILTER" else repr(tok.kind)
            raise FilterSyntaxError(f"expected AND, OR or the end, found {what}", tok.pos)
        return result

    def parse_or(self, depth: int) -> Filter:
        items = [self.parse_and(depth)]
        while self.peek().kind == "OR":
            self.take()
            items.append(self.parse_and(depth))
        if len(items) == 1:
            return items[0]
        return FilterList(FilterListOperator.MUST_PASS_ONE, items)

    def parse_and(self, depth: int) -> Filter:
        items = [self.parse_unary(depth)]
        while self.peek().kind == "AND":
            self.take()
            items.append(self.parse_unary(depth))
        if len(items) == 1:
            return items[0]
        return FilterList(FilterListOperator.MUST_PASS_ALL, items)

    def parse_unary(self, depth: int) -> Filter:
        tok = self.peek()
        if tok.kind == "SKIP" or tok.kind == "WHILE":
            if depth >= MAX_DEPTH:
                raise FilterSyntaxError(f"filter nested deeper than {MAX_DEPTH} levels", tok.pos)
            self.take()
            inner = self.parse_unary(depth + 1)
            return SkipFilter(inner) if tok.kind == "SKIP" else WhileMatchFilter(inner)
        return self.parse_primary(depth)

    def parse_primary(self, depth: int) -> Filter:
        tok = self.take()
        if tok.kind == "FILTER":
            return _build(tok, self.to_bytes)
        if tok.kind == "(":
            if depth >= MAX_DEPTH:
                raise FilterSyntaxError(f"filter nested deeper than {MAX_DEPTH} levels", tok.pos)
            inner = self.parse_or(depth + 1)
            close = self.take()
            if close.kind != ")":
                raise FilterSyntaxError(
                    f"mismatched parenthesis: no ')' for the '(' at position {tok.pos}", close.pos
                )
            return inner
        if tok.kind == "END":
            raise FilterSyntaxError("expected a filter, found the end of the string", tok.pos)
        if tok.kind == ")":
            raise FilterSyntaxError(
                "expected a filter, found ')' (mismatched parenthesis)", tok.pos
            )
        raise FilterSyntaxError(f"expected a filter, found operator {tok.kind}", tok.pos)


# -- argument conversion -----------------------------------------------------------


def _arity(tok: _Token, allowed: tuple[int, ...]) -> None:
    if len(tok.args) not in allowed:
        want = " or ".join(str(a) for a in allowed)
        raise FilterSyntaxError(
            f"wrong number of arguments for {tok.name}: expected {want}, got {len(tok.args)}",
            tok.pos,
        )


def _string(tok: _Token, arg: _Arg, to_bytes: Callable[[str], bytes]) -> bytes:
    if not arg.quoted:
        raise FilterSyntaxError(
            f"{tok.name}: expected a quoted string argument, found {arg.text!r}", arg.pos
        )
    return to_bytes(arg.text)


def _boolean(tok: _Token, arg: _Arg) -> bool:
    word = arg.text.lower() if not arg.quoted else ""
    if word == "true":
        return True
    if word == "false":
        return False
    shown = f"'{arg.text}'" if arg.quoted else arg.text
    raise FilterSyntaxError(f"{tok.name}: expected true or false, found {shown!r}", arg.pos)


def _integer(tok: _Token, arg: _Arg, bounds: tuple[int, int]) -> int:
    text = arg.text
    if arg.quoted or not _INTEGER.fullmatch(text):
        shown = f"'{text}'" if arg.quoted else text
        raise FilterSyntaxError(f"{tok.name}: expected an integer, found {shown!r}", arg.pos)
    kind = "int" if bounds == _INT32 else "long"
    if len(text) > 21:  # also keeps int() away from huge digit strings
        shown = text if len(text) <= 24 else text[:24] + "..."
        raise FilterSyntaxError(f"{tok.name}: integer {shown} out of {kind} range", arg.pos)
    value = int(text)
    if not bounds[0] <= value <= bounds[1]:
        raise FilterSyntaxError(f"{tok.name}: integer {text} out of {kind} range", arg.pos)
    return value


def _operator(tok: _Token, arg: _Arg) -> CompareOperator:
    op = None if arg.quoted else _OPERATORS.get(arg.text)
    if op is None:
        shown = f"'{arg.text}'" if arg.quoted else arg.text
        raise FilterSyntaxError(
            f"{tok.name}: invalid compare operator {shown!r} (expected <, <=, =, !=, >= or >)",
            arg.pos,
        )
    return op


def _comparator(
    tok: _Token, op: CompareOperator, arg: _Arg, to_bytes: Callable[[str], bytes]
) -> ByteArrayComparable:
    raw = _string(tok, arg, to_bytes)
    kind, colon, value = raw.partition(b":")
    if not colon:
        raise FilterSyntaxError(
            f"{tok.name}: comparator {arg.text!r} must look like 'type:value'", arg.pos
        )
    comparator: ByteArrayComparable
    if kind == b"binary":
        comparator = BinaryComparator(value)
    elif kind == b"binaryprefix":
        comparator = BinaryPrefixComparator(value)
    elif kind == b"regexstring" or kind == b"substring":
        if op not in (CompareOperator.EQUAL, CompareOperator.NOT_EQUAL):
            raise FilterSyntaxError(
                f"{tok.name}: a {kind.decode()} comparator can only be used with = or !=, "
                f"not {op.value}",
                arg.pos,
            )
        if kind == b"substring":
            comparator = SubstringComparator(value)
        else:
            try:
                comparator = RegexStringComparator(value)
            except InvalidArgument as exc:
                raise FilterSyntaxError(f"{tok.name}: {exc}", arg.pos) from None
    else:
        shown = kind.decode("latin-1")
        raise FilterSyntaxError(
            f"{tok.name}: unknown comparator type {shown!r} "
            "(expected binary, binaryprefix, regexstring or substring)",
            arg.pos,
        )
    return comparator


# -- the registry: one builder per filter name (ParseFilter's static map) -----------

_Builder = Callable[[_Token, Callable[[str], bytes]], Filter]


def _key_only(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (0, 1))
    return KeyOnlyFilter(_boolean(tok, tok.args[0]) if tok.args else False)


def _first_key_only(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (0,))
    return FirstKeyOnlyFilter()


def _prefix(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (1,))
    return PrefixFilter(_string(tok, tok.args[0], b))


def _column_prefix(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (1,))
    return ColumnPrefixFilter(_string(tok, tok.args[0], b))


def _multiple_column_prefix(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    return MultipleColumnPrefixFilter([_string(tok, a, b) for a in tok.args])


def _column_count_get(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (1,))
    return ColumnCountGetFilter(_integer(tok, tok.args[0], _INT32))


def _page(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (1,))
    return PageFilter(_integer(tok, tok.args[0], _INT64))


def _column_pagination(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (2,))
    limit = _integer(tok, tok.args[0], _INT32)
    return ColumnPaginationFilter(limit, _integer(tok, tok.args[1], _INT32))


def _inclusive_stop(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (1,))
    return InclusiveStopFilter(_string(tok, tok.args[0], b))


def _timestamps(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    return TimestampsFilter([_integer(tok, a, _INT64) for a in tok.args])


def _compare(cls: Callable[[CompareOperator, ByteArrayComparable], Filter]) -> _Builder:
    def build(tok: _Token, b: Callable[[str], bytes]) -> Filter:
        _arity(tok, (2,))
        op = _operator(tok, tok.args[0])
        return cls(op, _comparator(tok, op, tok.args[1], b))

    return build


def _column_range(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (4,))
    low = _string(tok, tok.args[0], b)
    high = _string(tok, tok.args[2], b)
    return ColumnRangeFilter(
        low or None, _boolean(tok, tok.args[1]), high or None, _boolean(tok, tok.args[3])
    )


def _single_column_value(cls: type[SingleColumnValueFilter]) -> _Builder:
    def build(tok: _Token, b: Callable[[str], bytes]) -> Filter:
        _arity(tok, (4, 6))
        a = tok.args
        family, qualifier = _string(tok, a[0], b), _string(tok, a[1], b)
        op = _operator(tok, a[2])
        comparator = _comparator(tok, op, a[3], b)
        if len(a) == 6:
            return cls(family, qualifier, op, comparator, _boolean(tok, a[4]), _boolean(tok, a[5]))
        return cls(family, qualifier, op, comparator)

    return build


def _dependent_column(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (2, 3, 5))
    a = tok.args
    family, qualifier = _string(tok, a[0], b), _string(tok, a[1], b)
    if len(a) == 2:
        return DependentColumnFilter(family, qualifier)
    drop = _boolean(tok, a[2])
    if len(a) == 3:
        return DependentColumnFilter(family, qualifier, drop)
    op = _operator(tok, a[3])
    return DependentColumnFilter(family, qualifier, drop, op, _comparator(tok, op, a[4], b))


def _column_value(tok: _Token, b: Callable[[str], bytes]) -> Filter:
    _arity(tok, (4,))
    a = tok.args
    op = _operator(tok, a[2])
    return ColumnValueFilter(
        _string(tok, a[0], b), _string(tok, a[1], b), op, _comparator(tok, op, a[3], b)
    )


_REGISTRY: dict[str, _Builder] = {
    "KeyOnlyFilter": _key_only,
    "FirstKeyOnlyFilter": _first_key_only,
    "PrefixFilter": _prefix,
    "ColumnPrefixFilter": _column_prefix,
    "MultipleColumnPrefixFilter": _multiple_column_prefix,
    "ColumnCountGetFilter": _column_count_get,
    "PageFilter": _page,
    "ColumnPaginationFilter": _column_pagination,
    "InclusiveStopFilter": _inclusive_stop,
    "TimestampsFilter": _timestamps,
    "RowFilter": _compare(RowFilter),
    "FamilyFilter": _compare(FamilyFilter),
    "QualifierFilter": _compare(QualifierFilter),
    "ValueFilter": _compare(ValueFilter),
    "ColumnRangeFilter": _column_range,
    "SingleColumnValueFilter": _single_column_value(SingleColumnValueFilter),
    "SingleColumnValueExcludeFilter": _single_column_value(SingleColumnValueExcludeFilter),
    "DependentColumnFilter": _dependent_column,
    "ColumnValueFilter": _column_value,
}

#: The registered filter names (HBase ParseFilter's map plus ColumnValueFilter).
FILTER_NAMES: tuple[str, ...] = tuple(sorted(_REGISTRY))
_BY_LOWER = {name.lower(): name for name in _REGISTRY}


def _build(tok: _Token, to_bytes: Callable[[str], bytes]) -> Filter:
    builder = _REGISTRY.get(tok.name)
    if builder is None:
        hint = _BY_LOWER.get(tok.name.lower())
        extra = f"; did you mean {hint!r}?" if hint else ""
        raise FilterSyntaxError(f"unknown filter name {tok.name!r}{extra}", tok.pos)
    try:
        return builder(tok, to_bytes)
    except FilterSyntaxError:
        raise
    except InvalidArgument as exc:  # constructor checks (negative limits, duplicates...)
        raise FilterSyntaxError(f"{tok.name}: {exc}", tok.pos) from None


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _latin1(text: str) -> bytes:
    return text.encode("latin-1")


def parse_filter(text: str | bytes) -> Filter:
    """Parse a filter-language string into a Filter tree.

    Raises FilterSyntaxError (message names the problem and its position) for any
    malformed input; never anything else.

    >>> parse_filter("PrefixFilter('row') AND KeyOnlyFilter()")
    FilterList(MUST_PASS_ALL, [PrefixFilter(b'row'), KeyOnlyFilter(False)])
    >>> parse_filter("ValueFilter(<, 'regexstring:a.*')")
    Traceback (most recent call last):
    ...
    hedgerow.errors.FilterSyntaxError: ValueFilter: a regexstring comparator can only be used with = or !=, not < (at position 15)
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        source = bytes(text).decode("latin-1")
        to_bytes = _latin1
    elif isinstance(text, str):
        source = text
        to_bytes = _utf8
    else:
        raise FilterSyntaxError(f"a filter must be str or bytes, not {type(text).__name__}", 0)
    try:
        return _Parser(_lex(source), to_bytes).parse()
    except RecursionError:  # defence in depth: MAX_DEPTH keeps recursion far below the limit
        raise FilterSyntaxError("filter nested too deeply", None) from None
