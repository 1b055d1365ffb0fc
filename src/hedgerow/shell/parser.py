"""Parser for HBase shell input: Ruby-ish command calls with literal arguments.

Role: ``Shell`` hands it the text of one or more commands; it returns ``Call``
objects (command name, positional arguments). ``is_complete`` tells the
interactive reader whether to ask for another line.

Grammar (the subset of Ruby the HBase shell's help texts use; facts from
hbase-shell/src/main/ruby/shell/commands/*.rb help strings; the commands are listed
in docs/shell.md)::

    input     := (statement (';' | NEWLINE))*
    statement := NAME ['(' args ')' | args]
    args      := arg (',' arg)* [',']
    arg       := value | key '=>' value       # trailing key=>value pairs form one Hash
    value     := STRING | NUMBER | CONST | true | false | nil | list | hash
    list      := '[' [value (',' value)* [',']] ']'
    hash      := '{' [key '=>' value (',' key '=>' value)* [',']] '}'
    key       := STRING | CONST | NUMBER

Values: single-quoted strings know only ``\\\\`` and ``\\'``; double-quoted strings
know Ruby's escapes (``\\xNN``, ``\\n``, ``\\t``, ``\\0``, octal, ``\\uNNNN``...).
Strings become ``bytes`` (UTF-8 for text, raw bytes for ``\\xNN``), since row
keys and values are bytes; an upper-case constant (``VERSIONS``) becomes the
``str`` of its name, as HBase's shell constants are strings. A line may end
with ``,`` or ``=>`` or leave a bracket or quote open: the command goes on.
``#`` starts a comment outside strings.

Invariants: parsing has no side effects; errors are ``ShellSyntaxError`` with
a line and column.
Concurrency: pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Call", "ShellSyntaxError", "UnknownConstant", "is_complete", "parse"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*[?!]?")
_NUMBER = re.compile(r"-?(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?)")
_SPACE = re.compile(r"[ \t\r]+")

_SIMPLE_ESCAPES = {
    "n": b"\n",
    "t": b"\t",
    "r": b"\r",
    "0": b"\x00",
    "a": b"\x07",
    "b": b"\x08",
    "e": b"\x1b",
    "f": b"\x0c",
    "v": b"\x0b",
    "s": b" ",
    "\\": b"\\",
    '"': b'"',
    "'": b"'",
    "#": b"#",
}


class ShellSyntaxError(Exception):
    """Malformed input; ``str()`` names the line and column."""

    def __init__(self, message: str, line: int, col: int) -> None:
        super().__init__(f"syntax error at line {line}, column {col}: {message}")
        self.line = line
        self.col = col


class UnknownConstant(Exception):
    """A bare upper-case name that is not one of the shell's constants (Ruby's NameError)."""


@dataclass
class Call:
    """One command: ``name`` and its arguments (trailing ``K => v`` pairs as one dict)."""

    name: str
    args: list[Any] = field(default_factory=list)
    text: str = ""


@dataclass
class _Tok:
    kind: str  # STR NUM NAME PUNCT NL EOF
    value: Any
    pos: int


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


class _Unterminated(Exception):
    """Input ends inside a string (more lines may complete it)."""


def _read_double(text: str, i: int) -> tuple[bytes, int]:
    """Read a double-quoted string starting after its opening quote."""
    out = bytearray()
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            return bytes(out), i + 1
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        if i + 1 >= n:
            break
        e = text[i + 1]
        i += 2
        if e == "x":
            m = re.compile(r"[0-9a-fA-F]{1,2}").match(text, i)
            if not m:
                raise ShellSyntaxError("invalid hex escape", *_line_col(text, i - 2))
            out.append(int(m.group(), 16))
            i = m.end()
        elif e in "01234567" and (e != "0" or (i < n and text[i] in "01234567")):
            m = re.compile(r"[0-7]{1,3}").match(text, i - 1)
            assert m is not None
            out.append(int(m.group(), 8) & 0xFF)
            i = m.end()
        elif e == "u":
            m = re.compile(r"\{([0-9a-fA-F]{1,6})\}|([0-9a-fA-F]{4})").match(text, i)
            if not m:
                raise ShellSyntaxError("invalid Unicode escape", *_line_col(text, i - 2))
            out += chr(int(m.group(1) or m.group(2), 16)).encode("utf-8")
            i = m.end()
        elif e == "\n":
            pass  # line continuation inside a string
        else:
            out += _SIMPLE_ESCAPES.get(e, e.encode("utf-8"))
    raise _Unterminated()


def _read_single(text: str, i: int) -> tuple[bytes, int]:
    """Read a single-quoted string (only ``\\\\`` and ``\\'`` are escapes, as in Ruby)."""
    out: list[str] = []
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            return "".join(out).encode("utf-8"), i + 1
        if ch == "\\" and i + 1 < n and text[i + 1] in "\\'":
            out.append(text[i + 1])
            i += 2
            continue
        out.append(ch)
        i += 1
    raise _Unterminated()


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        m = _SPACE.match(text, i)
        if m:
            i = m.end()
            continue
        if ch == "\\" and text.startswith("\\\n", i):
            i += 2  # explicit line continuation
            continue
        if ch == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if ch == "\n":
            toks.append(_Tok("NL", "\n", i))
            i += 1
            continue
        if ch in "'\"":
            s, j = (_read_single if ch == "'" else _read_double)(text, i + 1)
            toks.append(_Tok("STR", s, i))
            i = j
            continue
        if text.startswith("=>", i):
            toks.append(_Tok("PUNCT", "=>", i))
            i += 2
            continue
        if ch in "{}[](),;":
            toks.append(_Tok("PUNCT", ch, i))
            i += 1
            continue
        m = _NUMBER.match(text, i)
        if m and (ch != "-" or not toks or toks[-1].kind == "PUNCT"):
            raw = m.group().replace("_", "")
            if raw.lstrip("-").lower().startswith("0x"):
                val: int | float = int(raw, 16)
            elif any(c in raw for c in ".eE"):
                val = float(raw)
            else:
                val = int(raw)
            toks.append(_Tok("NUM", val, i))
            i = m.end()
            continue
        if ch == ":" and _NAME.match(text, i + 1):  # Ruby symbol :name -> its name
            m2 = _NAME.match(text, i + 1)
            assert m2 is not None
            toks.append(_Tok("STR", m2.group().encode("utf-8"), i))
            i = m2.end()
            continue
        m = _NAME.match(text, i)
        if m:
            toks.append(_Tok("NAME", m.group(), i))
            i = m.end()
            continue
        raise ShellSyntaxError(f"unexpected character {ch!r}", *_line_col(text, i))
    toks.append(_Tok("EOF", None, n))
    return toks


class _Parser:
    def __init__(self, text: str, constants: frozenset[str]) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.constants = constants

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def next(self) -> _Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def error(self, msg: str, tok: _Tok | None = None) -> ShellSyntaxError:
        t = tok or self.peek()
        return ShellSyntaxError(msg, *_line_col(self.text, t.pos))

    def is_p(self, value: str) -> bool:
        t = self.peek()
        return t.kind == "PUNCT" and t.value == value

    def skip_nl(self) -> None:
        while self.peek().kind == "NL":
            self.i += 1

    def expect(self, value: str) -> None:
        if not self.is_p(value):
            raise self.error(f"expected {value!r}, found {_describe(self.peek())}")
        self.i += 1

    def program(self) -> list[Call]:
        calls: list[Call] = []
        while True:
            while self.peek().kind == "NL" or self.is_p(";"):
                self.i += 1
            if self.peek().kind == "EOF":
                return calls
            start = self.peek().pos
            call = self.statement()
            end = self.peek().pos
            call.text = self.text[start:end].strip()
            calls.append(call)
            t = self.peek()
            if not (t.kind in ("NL", "EOF") or self.is_p(";")):
                raise self.error(f"unexpected {_describe(t)}")

    def statement(self) -> Call:
        t = self.next()
        if t.kind != "NAME":
            raise self.error(f"a command name was expected, found {_describe(t)}", t)
        call = Call(t.value)
        if self.is_p("(") and self.peek().pos == t.pos + len(t.value):
            self.i += 1
            self.skip_nl()
            if not self.is_p(")"):
                call.args = self.args(closing=")")
            self.skip_nl()
            self.expect(")")
        elif self.peek().kind not in ("NL", "EOF") and not self.is_p(";"):
            call.args = self.args(closing=None)
        return call

    def args(self, closing: str | None) -> list[Any]:
        out: list[Any] = []
        pairs: dict[Any, Any] | None = None
        while True:
            start = self.peek()
            v = self.value()
            if self.is_p("=>"):
                self.i += 1
                self.skip_nl()
                key = _key(v)
                if pairs is None:
                    pairs = {}
                    out.append(pairs)
                pairs[key] = self.value()
            else:
                if pairs is not None:
                    raise self.error("a positional argument cannot follow KEY => value", start)
                out.append(v)
            if not self.is_p(","):
                return out
            self.i += 1
            self.skip_nl()
            if closing is not None and self.is_p(closing):
                return out

    def value(self) -> Any:
        t = self.next()
        if t.kind in ("STR", "NUM"):
            return t.value
        if t.kind == "NAME":
            if t.value == "true":
                return True
            if t.value == "false":
                return False
            if t.value == "nil":
                return None
            if t.value in self.constants:
                return t.value
            if t.value[0].isupper():
                raise UnknownConstant(f"uninitialized constant {t.value}")
            raise self.error(f"unexpected name {t.value!r} (quote strings: '{t.value}')", t)
        if t.kind == "PUNCT" and t.value == "[":
            items: list[Any] = []
            self.skip_nl()
            while not self.is_p("]"):
                items.append(self.value())
                self.skip_nl()
                if not self.is_p(","):
                    break
                self.i += 1
                self.skip_nl()
            self.expect("]")
            return items
        if t.kind == "PUNCT" and t.value == "{":
            d: dict[Any, Any] = {}
            self.skip_nl()
            while not self.is_p("}"):
                k = _key(self.value())
                self.skip_nl()
                self.expect("=>")
                self.skip_nl()
                d[k] = self.value()
                self.skip_nl()
                if not self.is_p(","):
                    break
                self.i += 1
                self.skip_nl()
            self.expect("}")
            return d
        raise self.error(f"unexpected {_describe(t)}", t)


def _key(v: Any) -> Any:
    """Hash keys: strings compare by text, so 'NAME' and NAME are the same key."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "surrogateescape")
    if isinstance(v, list | dict):
        raise ValueError("a list or hash cannot be a hash key")
    return v


def _describe(t: _Tok) -> str:
    if t.kind == "EOF":
        return "end of input"
    if t.kind == "NL":
        return "end of line"
    if t.kind == "STR":
        return "string (is a ',' missing?)"
    if t.kind == "NUM":
        return f"number {t.value}"
    return repr(t.value)


def parse(text: str, constants: frozenset[str] = frozenset()) -> list[Call]:
    """Parse ``text`` into calls.

    >>> [(c.name, c.args) for c in parse("put 't1', 'r1', 'cf:a', \\"\\\\x00v\\", 5")]
    [('put', [b't1', b'r1', b'cf:a', b'\\x00v', 5])]
    >>> parse("scan 't', {LIMIT => 2}", frozenset({"LIMIT"}))[0].args
    [b't', {'LIMIT': 2}]

    Raises ``ShellSyntaxError`` (or ``UnknownConstant``) on bad input.
    """
    try:
        return _Parser(text, constants).program()
    except _Unterminated:
        raise ShellSyntaxError("unterminated string", *_line_col(text, len(text))) from None
    except ValueError as e:
        raise ShellSyntaxError(str(e), *_line_col(text, len(text))) from None


def is_complete(text: str) -> bool:
    """False when ``text`` leaves a quote or bracket open or ends with ``,`` or ``=>``.

    >>> is_complete("create 't', {NAME => 'f',")
    False
    >>> is_complete("create 't', 'f'")
    True
    """
    try:
        toks = _tokenize(text)
    except _Unterminated:
        return False
    except ShellSyntaxError:
        return True  # let the parser report it
    depth = 0
    last: _Tok | None = None
    for t in toks:
        if t.kind == "PUNCT" and t.value in "([{":
            depth += 1
        elif t.kind == "PUNCT" and t.value in ")]}":
            depth -= 1
        if t.kind not in ("NL", "EOF"):
            last = t
    if depth > 0:
        return False
    return not (last is not None and last.kind == "PUNCT" and last.value in (",", "=>"))
