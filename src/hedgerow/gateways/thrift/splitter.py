"""Thrift message boundaries: where one request ends in a connection's byte stream.

Role: the gateway's event loop (server.py) feeds each connection's bytes to a
``RequestSplitter`` and hands only complete request messages to the worker pool,
so a client that sends half a message and stalls holds no thread. The split
needs no IDL: Thrift's binary and compact encodings put a type on every value,
so a message's extent is found by walking the types, jumping over strings and
runs of fixed-size values. The walk also enforces the request limits before any
byte is decoded into objects.
Format: Apache Thrift's binary protocol (strict: the version-1 header) and compact
protocol, optionally framed (a 4-byte big-endian length before each message);
specs: https://github.com/apache/thrift/blob/master/doc/specs/thrift-binary-protocol.md
and https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md.
Summary::

    binary  := 0x8001 0x00 type:u8  name_len:i32be name  seqid:i32be  struct
    compact := 0x82 (type<<5 | 1)  seqid:varint  name_len:varint name  struct
    framed  := frame_len:i32be message (exactly frame_len bytes)
Invariants: a message is handed out only once the walk reached its last byte;
a declared length or count that would take the message past
``max_message_bytes`` (framed: a frame length over it) or past
``max_message_values`` values, nesting deeper than ``MAX_DEPTH``, an unknown type
or a bad header raises ``MessageError`` at once, without waiting for (or
buffering) the bytes it announces; the walk yields to the event loop every
``step_budget`` values, so one huge message cannot stall other connections.
Concurrency: not thread-safe; one splitter per connection, used by the loop thread.
Hot path: ``RequestSplitter.next_message`` (every request); bench/bench_thrift.py.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Generator

__all__ = ["MAX_DEPTH", "MessageError", "Need", "RequestSplitter"]

#: Deepest nesting of structs and containers a request may use (thriftpy2's
#: decoder has the same default recursion depth).
MAX_DEPTH = 64
#: Longest method name; every Hbase method name is under 40 bytes.
MAX_NAME_BYTES = 256
#: Values walked before the walk gives the event loop back (about 5 ms of work).
STEP_BUDGET = 20_000

_I32 = struct.Struct("!i")
_LIST = struct.Struct("!bi")  # element type, count
_MAP = struct.Struct("!bbi")  # key type, value type, count

# binary protocol type ids (TType) and the size of the fixed-size ones
_B_STRING, _B_STRUCT, _B_MAP, _B_SET, _B_LIST = 11, 12, 13, 14, 15
_B_FIXED = {2: 1, 3: 1, 4: 8, 6: 2, 8: 4, 10: 8}  # bool byte double i16 i32 i64
_B_TYPES = frozenset(_B_FIXED) | {_B_STRING, _B_STRUCT, _B_MAP, _B_SET, _B_LIST}
_B_VERSION_MASK = -65536  # 0xffff0000 as an i32
_B_VERSION_1 = -2147418112  # 0x80010000 as an i32

# compact protocol type ids (CompactType)
_C_PROTOCOL_ID = 0x82
_C_TRUE, _C_FALSE, _C_BYTE, _C_I16, _C_I32, _C_I64 = 1, 2, 3, 4, 5, 6
_C_DOUBLE, _C_BINARY, _C_LIST, _C_SET, _C_MAP, _C_STRUCT = 7, 8, 9, 10, 11, 12
_C_VARINT = frozenset({_C_I16, _C_I32, _C_I64})
# element sizes in containers (a bool element is one byte there)
_C_FIXED_ELEMENT = {_C_TRUE: 1, _C_FALSE: 1, _C_BYTE: 1, _C_DOUBLE: 8}
_C_TYPES = frozenset(range(1, 13))

# walk frames: [kind, type1, type2, values left]
_STRUCT, _SEQ, _MAP_KIND = 0, 1, 2


class Need(enum.Enum):
    """Why ``next_message`` has no message to give yet."""

    DATA = "data"
    """More bytes must arrive."""
    TURN = "turn"
    """The walk used its step budget; call again after other work had a turn."""


class MessageError(Exception):
    """The stream does not hold a request this server accepts; the connection must close.

    ``method`` and ``seqid`` are set when the message header was read (an error
    reply can then name the call); ``limit`` names the limit that was exceeded, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        seqid: int | None = None,
        limit: str | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.seqid = seqid
        self.limit = limit


_Walk = Generator[int, None, int]


def _check_name(n: int) -> None:
    if n < 0 or n > MAX_NAME_BYTES:
        raise MessageError(f"method name of {n} bytes (at most {MAX_NAME_BYTES})")


class _Fallback(Exception):
    """The one-go walk cannot finish here: bytes are missing or its budget is spent."""


_FALLBACK = _Fallback()
#: Values one one-go walk may cover before it falls back to the step-by-step walk
#: (which yields to the event loop); a whole small request fits.
FAST_BUDGET = 4_000


def _fast_binary_struct(buf: bytearray, pos: int, depth: int, budget: list[int]) -> int:
    """End of the binary-protocol struct whose fields start at ``pos``, in one go.

    The fast path of ``RequestSplitter``: a plain recursive walk, no yields and no
    per-value length checks (running off the end is caught once per string or
    header). Raises _Fallback when the buffer ends first or ``budget[0]`` (values
    left, decremented per value) runs out; MessageError for malformed input.
    """
    fixed = _B_FIXED
    n = len(buf)
    while True:
        if pos >= n:
            raise _FALLBACK
        t = buf[pos]
        if t == 0:
            return pos + 1
        pos += 3  # type, field id
        budget[0] -= 1
        size = fixed.get(t)
        if size is not None:
            pos += size
        elif t == _B_STRING:
            if pos + 4 > n:
                raise _FALLBACK
            (k,) = _I32.unpack_from(buf, pos)
            if k < 0:
                raise MessageError(f"negative string length {k} at offset {pos}")
            pos += 4 + k
        else:
            pos = _fast_binary_value(buf, pos, t, depth, budget)
        if budget[0] < 0:
            raise _FALLBACK


def _fast_binary_value(buf: bytearray, pos: int, t: int, depth: int, budget: list[int]) -> int:
    """End of one value of type ``t`` at ``pos`` (see _fast_binary_struct)."""
    size = _B_FIXED.get(t)
    if size is not None:
        return pos + size
    n = len(buf)
    if t == _B_STRING:
        if pos + 4 > n:
            raise _FALLBACK
        (k,) = _I32.unpack_from(buf, pos)
        if k < 0:
            raise MessageError(f"negative string length {k} at offset {pos}")
        return pos + 4 + int(k)
    if depth >= MAX_DEPTH:
        raise MessageError(f"request nests deeper than {MAX_DEPTH}")
    if t == _B_STRUCT:
        return _fast_binary_struct(buf, pos, depth + 1, budget)
    if t in (_B_LIST, _B_SET):
        if pos + 5 > n:
            raise _FALLBACK
        et, count = _LIST.unpack_from(buf, pos)
        pos += 5
        if count < 0 or (count and et not in _B_TYPES):
            raise MessageError(f"bad list header (type {et}, {count} elements)")
        budget[0] -= count
        if budget[0] < 0:
            raise _FALLBACK
        size = _B_FIXED.get(et)
        if size is not None:  # a run of fixed-size values: jump over it
            return pos + int(count) * size
        for _ in range(count):
            pos = _fast_binary_value(buf, pos, et, depth + 1, budget)
        return pos
    if t == _B_MAP:
        if pos + 6 > n:
            raise _FALLBACK
        kt, vt, count = _MAP.unpack_from(buf, pos)
        pos += 6
        if count < 0 or (count and (kt not in _B_TYPES or vt not in _B_TYPES)):
            raise MessageError(f"bad map header (types {kt}/{vt}, {count} entries)")
        budget[0] -= 2 * count
        if budget[0] < 0:
            raise _FALLBACK
        for _ in range(count):
            pos = _fast_binary_value(buf, pos, kt, depth + 1, budget)
            pos = _fast_binary_value(buf, pos, vt, depth + 1, budget)
        return pos
    raise MessageError(f"unknown binary-protocol type {t}")


class RequestSplitter:
    """Cuts one connection's byte stream into complete Thrift request messages.

    Call order: ``(feed next_message*)*``. ``next_message`` returns the next whole
    message (without its frame header) or a ``Need``; it raises ``MessageError``
    for a stream that cannot go on.

    >>> s = RequestSplitter(framed=True, compact=False, max_message_bytes=100)
    >>> msg = bytes.fromhex("80010001 00000004") + b"ping" + bytes(4) + b"\\x00"
    >>> s.feed(len(msg).to_bytes(4, "big") + msg[:5])
    >>> s.next_message()
    <Need.DATA: 'data'>
    >>> s.feed(msg[5:]); s.next_message() == msg, s.method, s.buffered
    (True, 'ping', 0)
    """

    def __init__(
        self,
        *,
        framed: bool,
        compact: bool,
        max_message_bytes: int,
        max_message_values: int = 1 << 62,
        step_budget: int = STEP_BUDGET,
    ) -> None:
        # constant after __init__
        self.framed = framed
        self.compact = compact
        self.max_message_bytes = max_message_bytes
        self.max_message_values = max_message_values
        self.step_budget = step_budget
        # walk state
        self._buf = bytearray()
        self._walk: _Walk | None = None
        self._need = 0  # the walk waits until the buffer holds this many bytes
        #: header of the message being read, or of the last one handed out (None until
        #: the header was walked)
        self.method: str | None = None
        self.seqid: int | None = None

    @property
    def buffered(self) -> int:
        """Bytes held: the part of a message read so far, plus any that follow it."""
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def next_message(self) -> bytes | Need:
        buf = self._buf
        if self._walk is None:
            if not buf:
                return Need.DATA
            self._walk = self._walk_framed() if self.framed else self._walk_message(0, -1)
            self._need = 0
            self.method = self.seqid = None
        elif len(buf) < self._need:
            return Need.DATA
        try:
            need = next(self._walk)
        except StopIteration as stop:
            end: int = stop.value
        except MessageError as e:
            self._walk = None
            if e.method is None:
                e.method, e.seqid = self.method, self.seqid
            raise
        else:
            self._need = need
            return Need.TURN if need == 0 else Need.DATA
        start = 4 if self.framed else 0
        msg = bytes(buf[start:end])
        del buf[:end]
        self._walk = None
        return msg

    # ---- walks: generators that yield the buffer length they need to go on (0: a
    # turn's budget is used up) and return the end offset of the message

    def _too_big(self, what: str) -> MessageError:
        return MessageError(
            f"request {self.method or '?'} {what} exceeds max_message_bytes="
            f"{self.max_message_bytes}",
            limit="max_message_bytes",
        )

    def _walk_framed(self) -> _Walk:
        buf = self._buf
        while len(buf) < 4:
            yield 4
        (size,) = _I32.unpack_from(buf, 0)
        if size < 0:
            raise MessageError(f"negative frame length {size}")
        if size > self.max_message_bytes:
            raise self._too_big(f"frame of {size} bytes")
        end = yield from self._walk_message(4, 4 + size)
        if end != 4 + size:
            raise MessageError(
                f"frame of {size} bytes holds a {self.method} message of {end - 4} bytes"
            )
        return end

    def _walk_message(self, start: int, frame_end: int) -> _Walk:
        """Walk one message from ``start``; ``frame_end`` >= 0 bounds it (framed)."""
        max_end = frame_end if frame_end >= 0 else start + self.max_message_bytes
        if self.compact:
            pos = yield from self._compact_header(start)
            end = yield from self._compact_struct(pos, max_end)
        else:
            pos = yield from self._binary_header(start)
            end = yield from self._binary_struct(pos, max_end)
        return end

    def _check_count(self, pos: int, n: int, values: int, max_end: int) -> None:
        """A container of ``n`` values (each at least one byte) starts at ``pos``."""
        if pos + n > max_end:
            raise self._too_big(f"of at least {pos + n} bytes")
        if values + n > self.max_message_values:
            raise self._too_many()

    def _too_many(self) -> MessageError:
        return MessageError(
            f"request {self.method} has over {self.max_message_values} values "
            f"(max_message_values); send smaller batches",
            limit="max_message_values",
        )

    def _binary_header(self, pos: int) -> _Walk:
        buf = self._buf
        while len(buf) < pos + 4:
            yield pos + 4
        (head,) = _I32.unpack_from(buf, pos)
        if head >= 0:
            raise MessageError("not a strict binary-protocol message (no version header)")
        if head & _B_VERSION_MASK != _B_VERSION_1:
            raise MessageError(f"bad binary-protocol version header 0x{head & 0xFFFFFFFF:08x}")
        while len(buf) < pos + 8:
            yield pos + 8
        (n,) = _I32.unpack_from(buf, pos + 4)
        _check_name(n)
        pos += 8 + n
        while len(buf) < pos + 4:
            yield pos + 4
        self.method = bytes(buf[pos - n : pos]).decode("utf-8", "replace")
        (self.seqid,) = _I32.unpack_from(buf, pos)
        return pos + 4

    def _binary_struct(self, pos: int, max_end: int) -> _Walk:
        buf = self._buf
        fixed = _B_FIXED
        max_values, budget = self.max_message_values, self.step_budget
        values = steps = 0
        stack: list[list[int]] = [[_STRUCT, 0, 0, 0]]
        while stack:
            f = stack[-1]
            kind = f[0]
            if kind == _STRUCT:  # fast path: the next field header
                while len(buf) < pos + 1:
                    yield pos + 1
                t = buf[pos]
                if t == 0:
                    pos += 1
                    stack.pop()
                    continue
                pos += 3  # type, field id
            elif f[3] == 0:
                stack.pop()
                continue
            elif kind == _SEQ:
                t = f[1]
                if t == _B_STRUCT:  # fast path: a list of structs, each in one go
                    fast = [0]
                    try:
                        while f[3] and steps < budget:
                            fast[0] = FAST_BUDGET
                            pos = _fast_binary_struct(buf, pos, len(stack), fast)
                            f[3] -= 1
                            used = FAST_BUDGET + 1 - fast[0]
                            values += used
                            steps += used
                    except _Fallback:  # this one field by field
                        f[3] -= 1
                        values += 1
                        steps += 1
                        stack.append([_STRUCT, 0, 0, 0])
                    if pos > max_end:
                        raise self._too_big(f"of at least {pos} bytes")
                    if values > max_values:
                        raise self._too_many()
                    if steps >= budget:
                        steps = 0
                        yield 0
                    continue
                f[3] -= 1
            else:
                t = f[1] if f[3] % 2 == 0 else f[2]
                f[3] -= 1
            values += 1
            steps += 1
            size = fixed.get(t)
            if size is not None:
                pos += size
            elif t == _B_STRING:
                while len(buf) < pos + 4:
                    yield pos + 4
                (n,) = _I32.unpack_from(buf, pos)
                if n < 0:
                    raise MessageError(f"negative string length {n} at offset {pos}")
                pos += 4 + n
            elif t == _B_STRUCT:
                fast = [FAST_BUDGET]
                try:  # fast path: the whole struct is buffered and small
                    pos = _fast_binary_struct(buf, pos, len(stack), fast)
                    values += FAST_BUDGET - fast[0]
                    steps += FAST_BUDGET - fast[0]
                except _Fallback:  # slow path: field by field, yielding as needed
                    stack.append([_STRUCT, 0, 0, 0])
            elif t in (_B_LIST, _B_SET):
                while len(buf) < pos + 5:
                    yield pos + 5
                et, n = _LIST.unpack_from(buf, pos)
                pos += 5
                if n < 0 or (n and et not in _B_TYPES):
                    raise MessageError(f"bad list header (type {et}, {n} elements)")
                self._check_count(pos, n, values, max_end)
                size = fixed.get(et)
                if size is not None:  # a run of fixed-size values: jump over it
                    pos += n * size
                    values += n
                else:
                    stack.append([_SEQ, et, 0, n])
            elif t == _B_MAP:
                while len(buf) < pos + 6:
                    yield pos + 6
                kt, vt, n = _MAP.unpack_from(buf, pos)
                pos += 6
                if n < 0 or (n and (kt not in _B_TYPES or vt not in _B_TYPES)):
                    raise MessageError(f"bad map header (types {kt}/{vt}, {n} entries)")
                self._check_count(pos, 2 * n, values, max_end)
                ks, vs = fixed.get(kt), fixed.get(vt)
                if ks is not None and vs is not None:
                    pos += n * (ks + vs)
                    values += 2 * n
                else:
                    stack.append([_MAP_KIND, kt, vt, 2 * n])
            else:
                raise MessageError(f"unknown binary-protocol type {t}")
            if pos > max_end:
                raise self._too_big(f"of at least {pos} bytes")
            if values > max_values:
                raise self._too_many()
            if len(stack) > MAX_DEPTH:
                raise MessageError(f"request {self.method} nests deeper than {MAX_DEPTH}")
            if steps >= budget:
                steps = 0
                yield 0
        while len(buf) < pos:
            yield pos
        return pos

    def _varint(self, pos: int) -> Generator[int, None, tuple[int, int]]:
        """Read an unsigned LEB128 varint at ``pos``; returns (value, new pos)."""
        buf = self._buf
        value = shift = 0
        while True:
            while len(buf) <= pos:
                yield pos + 1
            b = buf[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value, pos
            shift += 7
            if shift > 63:
                raise MessageError(f"varint longer than 10 bytes at offset {pos}")

    def _compact_header(self, pos: int) -> _Walk:
        buf = self._buf
        while len(buf) < pos + 2:
            yield pos + 2
        if buf[pos] != _C_PROTOCOL_ID:
            raise MessageError(f"not a compact-protocol message (first byte 0x{buf[pos]:02x})")
        if buf[pos + 1] & 0x1F != 1:
            raise MessageError(f"bad compact-protocol version {buf[pos + 1] & 0x1F}")
        seqid, pos = yield from self._varint(pos + 2)
        n, pos = yield from self._varint(pos)
        _check_name(n)
        while len(buf) < pos + n:
            yield pos + n
        self.method = bytes(buf[pos : pos + n]).decode("utf-8", "replace")
        self.seqid = seqid - (1 << 32) if seqid >= 1 << 31 else seqid
        return pos + n

    def _compact_struct(self, pos: int, max_end: int) -> _Walk:
        buf = self._buf
        max_values, budget = self.max_message_values, self.step_budget
        values = steps = 0
        stack: list[list[int]] = [[_STRUCT, 0, 0, 0]]
        while stack:
            f = stack[-1]
            kind = f[0]
            in_struct = kind == _STRUCT
            if in_struct:
                while len(buf) < pos + 1:
                    yield pos + 1
                head = buf[pos]
                pos += 1
                if head == 0:
                    stack.pop()
                    continue
                t = head & 0x0F
                if head >> 4 == 0:  # a long-form field id follows
                    _, pos = yield from self._varint(pos)
            elif f[3] == 0:
                stack.pop()
                continue
            elif kind == _SEQ:
                t = f[1]
                f[3] -= 1
            else:
                t = f[1] if f[3] % 2 == 0 else f[2]
                f[3] -= 1
            values += 1
            steps += 1
            if t in (_C_TRUE, _C_FALSE):
                if not in_struct:  # a struct field's bool is in its header
                    pos += 1
            elif t in _C_VARINT:
                _, pos = yield from self._varint(pos)
            elif t == _C_BINARY:
                n, pos = yield from self._varint(pos)
                pos += n
            elif t == _C_BYTE:
                pos += 1
            elif t == _C_DOUBLE:
                pos += 8
            elif t == _C_STRUCT:
                stack.append([_STRUCT, 0, 0, 0])
            elif t in (_C_LIST, _C_SET):
                while len(buf) < pos + 1:
                    yield pos + 1
                head = buf[pos]
                pos += 1
                n, et = head >> 4, head & 0x0F
                if n == 15:
                    n, pos = yield from self._varint(pos)
                if n and et not in _C_TYPES:
                    raise MessageError(f"bad list header (type {et}, {n} elements)")
                self._check_count(pos, n, values, max_end)
                size = _C_FIXED_ELEMENT.get(et)
                if size is not None:  # a run of fixed-size values: jump over it
                    pos += n * size
                    values += n
                elif n:
                    stack.append([_SEQ, et, 0, n])
            elif t == _C_MAP:
                n, pos = yield from self._varint(pos)
                if n:
                    while len(buf) < pos + 1:
                        yield pos + 1
                    kt, vt = buf[pos] >> 4, buf[pos] & 0x0F
                    pos += 1
                    if kt not in _C_TYPES or vt not in _C_TYPES:
                        raise MessageError(f"bad map header (types {kt}/{vt}, {n} entries)")
                    self._check_count(pos, 2 * n, values, max_end)
                    stack.append([_MAP_KIND, kt, vt, 2 * n])
            else:
                raise MessageError(f"unknown compact-protocol type {t}")
            if pos > max_end:
                raise self._too_big(f"of at least {pos} bytes")
            if values > max_values:
                raise self._too_many()
            if len(stack) > MAX_DEPTH:
                raise MessageError(f"request {self.method} nests deeper than {MAX_DEPTH}")
            if steps >= budget:
                steps = 0
                yield 0
        while len(buf) < pos:
            yield pos
        return pos
