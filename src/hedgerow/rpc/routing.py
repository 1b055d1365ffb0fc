"""How a client runs an operation over RPC, without I/O: routing written once for both flavours.

Role: ``run(op, args, kwargs, routing)`` is a generator (a sans-I/O plan) that
turns one ``Operations`` call into the RPCs it takes, following the operation's
routing kind (rpc/operations.py): it yields ``Send`` (calls to make, at once) and
``Sleep`` (a backoff pause), is sent the answers, and returns the result.  The
blocking ``RpcBackend`` (rpc/client.py) and the asyncio ``AsyncRpcBackend``
(rpc/aio_client.py) only drive it, each its own way of waiting, so requests,
routing, retries and errors are the same in both.  ``fill`` does the same for a
scanner's next batch (``ScanCursor``).
Format: messages per docs/formats/rpc.md#bodies; region addressing per
docs/rfcs/0001-region-addressed-requests.md.
Invariants: every ``Call`` names the server it goes to (``Call.server``, the
region's location from meta; None: the bootstrap server, which answers admin
calls and lookups).  A region-addressed call refused with NOT_SERVING_REGION, or
whose server could not be reached, is retried with fresh locations and backoff
(10 ms doubling to 1 s) until the call's deadline; one whose connection broke
after it was sent is retried only if repeatable (reads; writes whose cells all
carry timestamps), else it raises WriteOutcomeUnknown (``locator.resend_or_error``).
A RELAYOUT call drops the table's cached locations whatever its outcome; a
FAN_OUT call resends only the parts refused.  A scan segment never crosses a
server: its range is cut where the run of regions its server hosts ends, and
the cursor reopens at the next region's server (RFC 0001, "Scans across
servers").  A driver sends a one-call ``Send`` as a plain call (its error is
thrown into the plan) and a many-call ``Send`` with every call in flight at once,
to every server concurrently (errors come back in place).
Concurrency: a plan belongs to one caller; ``Routing`` (the location cache) is
shared and thread-safe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hedgerow.errors import HedgerowError
from hedgerow.model.cell import Cell
from hedgerow.model.mutation import RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb
from hedgerow.rpc.codes import ConnectionLost
from hedgerow.rpc.locator import (
    UNADDRESSED,
    Backoff,
    FanOut,
    RegionLocator,
    TableLocations,
    resend_or_error,
)
from hedgerow.rpc.operations import OPERATIONS, Kind, MessageType, Operation
from hedgerow.rpc.pool import ServerPool

__all__ = [
    "Action",
    "Call",
    "RoutedBackend",
    "Routing",
    "RpcPlan",
    "ScanCursor",
    "Send",
    "Sleep",
    "fill",
    "run",
]

R = TypeVar("R")
TT = TypeVar("TT")

_REGIONS = OPERATIONS["regions"]
_SCAN = OPERATIONS["scan"]
_LOCATIONS = OPERATIONS["region_locations"]

#: single-row writes that must not be applied twice: their result depends on the
#: state they find (HBase gives Increment/Append a nonce instead, HBASE-3787)
_NEVER_REPEAT = frozenset({"increment", "append", "check_and_mutate"})
#: how many times one scan reopens after its server went away mid-scan
_SCAN_RESUMES = 8


def repeatable_mutation(mutation: RowMutation) -> bool:
    """Whether applying ``mutation`` twice leaves what applying it once does: every op
    names its timestamp (a put or delete "now" done twice lands at two times)."""
    return all(getattr(op, "ts", None) is not None for op in mutation.ops)


#: FAN_OUT operations whose items are not all repeatable: how to tell one item
_REPEATABLE_ITEM: dict[str, Callable[[Any], bool]] = {"mutate": repeatable_mutation}


@dataclass(frozen=True, slots=True)
class Call(Generic[R]):
    """One RPC, independent of how it is sent: its type, request, answer decoder, and the
    server it goes to ("host:port"; None: the bootstrap server)."""

    type: MessageType
    request: Any  # an rpc.messages request (has to_wire)
    decode: Callable[[Any], R]  # the unpacked response body -> the result
    server: str | None = None

    def body(self) -> bytes:
        return packb(self.request.to_wire())


@dataclass(frozen=True, slots=True)
class Send:
    """Make these calls (all at once when more than one); answer: their unpacked bodies
    (for several calls, an exception in place of each call that failed)."""

    calls: Sequence[Call[Any]]


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait this long, then go on (a backoff between attempts)."""

    seconds: float


Action = Send | Sleep
RpcPlan = Generator[Action, Any, R]


class Routing:
    """What one backend's plans share: the transport's facts and the location cache.

    ``addresses_regions()`` tells whether the server takes region names (protocol
    version 2 or more; unknown before the first connection: assume so);
    ``new_backoff()`` starts a call's backoff within its deadline.
    """

    def __init__(self, transport: Any, timeout_s: float | None) -> None:
        self.transport = transport
        self.timeout_s = timeout_s
        #: region locations (RFC 0001): every data call names its region
        self.locator = RegionLocator()

    def addresses_regions(self) -> bool:
        version = getattr(self.transport, "protocol_version", None)
        return version is None or version >= 2

    def new_backoff(self) -> Backoff:
        return Backoff.for_call(self.transport, self.timeout_s)


class RoutedBackend(Generic[TT]):
    """What the blocking and asyncio RPC backends share: the transport, the call deadline
    (``timeout_s``; None: the transport's default), the scan batch bounds and the routing
    state.  They differ only in how they wait while driving a plan."""

    def __init__(
        self,
        transport: TT,
        *,
        timeout_s: float | None = None,
        scan_batch_rows: int = 100,
        scan_batch_bytes: int = 1 << 20,
    ) -> None:
        self.transport = transport
        self.timeout_s = timeout_s
        self.scan_batch_rows = scan_batch_rows
        self.scan_batch_bytes = scan_batch_bytes
        self.routing = Routing(transport, timeout_s)
        #: a transport per region server, opened like ``transport`` (the bootstrap)
        self.pool: ServerPool[TT] = ServerPool(transport)

    def transport_for(self, server: str | None) -> TT:
        """The transport to ``server`` ("host:port"; None: the bootstrap)."""
        return self.pool.transport_for(server)

    @property
    def locator(self) -> RegionLocator:
        """The region location cache (RFC 0001)."""
        return self.routing.locator


def one(call: Call[R]) -> RpcPlan[R]:
    """The plan of a single call."""
    body = (yield Send((call,)))[0]
    return call.decode(body)


def _exchange(calls: Sequence[Call[Any]]) -> RpcPlan[list[Any]]:
    """Several calls at once; each answer decoded, or the HedgerowError it raised (a
    single call's too)."""
    if len(calls) == 1:
        try:
            return [(yield from one(calls[0]))]
        except HedgerowError as e:
            return [e]
    bodies = yield Send(calls)
    return [
        b if isinstance(b, BaseException) else c.decode(b)
        for c, b in zip(calls, bodies, strict=True)
    ]


def locations(r: Routing, table: str) -> RpcPlan[TableLocations]:
    """The table's cached locations (one REGIONS call on a miss)."""
    if not r.addresses_regions():
        return UNADDRESSED
    loc = r.locator.cached(table)
    if loc is None:
        regions = yield from one(Call(_REGIONS.message, m.TableRequest(table), _REGIONS.answer))
        if not r.addresses_regions():  # learnt at this first connection
            return UNADDRESSED
        loc = r.locator.install(table, regions)
    return loc


def routed(
    r: Routing,
    table: str,
    attempt: Callable[[TableLocations], RpcPlan[R]],
    repeatable: bool = True,
) -> RpcPlan[R]:
    """Run a region-addressed ``attempt`` with the table's locations; when it may be sent
    again (``resend_or_error``: refused, server unreachable, or a lost connection and
    ``repeatable``) look the table up again and retry with backoff until the deadline.
    A lookup that cannot reach the bootstrap server is retried the same way."""
    backoff: Backoff | None = None  # the fast path (cached location right) reads no clock
    while True:
        try:
            loc = yield from locations(r, table)
        except ConnectionLost as e:  # the lookup is a read: always repeatable
            last: BaseException = e
        else:
            try:
                return (yield from attempt(loc))
            except HedgerowError as e:
                final = resend_or_error(e, repeatable)
                if final is not None:
                    if final is e:
                        raise
                    raise final from e
                last = e
        r.locator.forget(table)
        if backoff is None:
            backoff = r.new_backoff()
        delay = backoff.next_delay()
        if delay is None:
            raise last
        yield Sleep(delay)


def _table_of(args: tuple[Any, ...]) -> str:
    """The table an operation is about: its first argument (a name or a descriptor)."""
    first = args[0]
    return first if isinstance(first, str) else str(first.name)


def run(op: Operation, args: tuple[Any, ...], kwargs: dict[str, Any], r: Routing) -> RpcPlan[Any]:
    """The plan of ``op(*args, **kwargs)`` over RPC, by its routing kind."""
    kind = op.kind
    if kind is Kind.ADMIN:
        result = yield from one(Call(op.message, op.request(*args, **kwargs), op.answer))
        if op is _LOCATIONS:  # a user's fresh look at the layout refreshes the cache
            r.locator.install(args[0], [region for region, _ in result])
        return result
    if kind is Kind.RELAYOUT:
        # the call gives the table new regions: drop its cached locations, so the next
        # data call reads them afresh instead of being refused first
        try:
            return (yield from one(Call(op.message, op.request(*args, **kwargs), op.answer)))
        finally:
            r.locator.forget(_table_of(args))
    table = args[0]
    if kind is Kind.ROUTED:
        row = args[1]

        def attempt(loc: TableLocations) -> RpcPlan[Any]:
            region = loc.locate(row)
            req = op.request(region, *args, **kwargs)
            return one(Call(op.message, req, op.answer, loc.server_of(region)))

        return (yield from routed(r, table, attempt, op.name not in _NEVER_REPEAT))
    if kind is Kind.FAN_OUT:
        assert op.item_row is not None
        fan: FanOut[Any] = FanOut(args[1], op.item_row, _REPEATABLE_ITEM.get(op.name))

        def send_parts(loc: TableLocations) -> RpcPlan[None]:
            parts = fan.parts(loc)
            calls = [
                Call(
                    op.message,
                    op.request(region, fan.part_items(idx), *args, **kwargs),
                    op.answer,
                    loc.server_of(region),
                )
                for region, idx in parts
            ]
            fan.settle(parts, (yield from _exchange(calls)))

        yield from routed(r, table, send_parts)
        return None if op.response_class is None else fan.per_item()
    raise AssertionError(f"{op.name}: a {kind.value} operation is not run by call()")


def _clip(loc: TableLocations, i: int, rng: ScanRange) -> tuple[ScanRange, ScanRange | None]:
    """The part of ``rng`` (a scan whose first row is in region ``i``) that the server of
    region ``i`` serves from its run of adjacent regions, and the rest to continue with
    after it (None: the segment ends the scan)."""
    server, servers = loc.servers[i], loc.servers
    if not rng.reverse:
        j = i
        while j + 1 < len(servers) and servers[j + 1] == server:
            j += 1
        end = loc.ends[j]
        stop = rng.stop
        if not end or (
            stop is not None and (stop < end or (stop == end and not rng.stop_inclusive))
        ):
            return rng, None
        seg = dataclasses.replace(rng, stop=end, stop_inclusive=False)
        return seg, dataclasses.replace(rng, start=end, start_inclusive=True)
    j = i
    while j > 0 and servers[j - 1] == server:
        j -= 1
    low = loc.starts[j]
    if not low or (rng.stop is not None and rng.stop >= low):
        return rng, None
    seg = dataclasses.replace(rng, stop=low, stop_inclusive=True)
    return seg, dataclasses.replace(rng, start=low, start_inclusive=False)


class ScanCursor:
    """The state of a server-side scan, shared by the blocking and asyncio scanners.

    ``fill`` (below) brings the next batch; ``pop`` takes the next buffered row;
    ``close_call`` ends the scan here.  A scan runs as segments, one per run of
    adjacent regions on one server (``_clip``): ``_rng`` is what is left of the
    user's range, ``_cont`` what follows the open segment, ``_server`` where the open
    server scanner lives.
    """

    def __init__(
        self, table: str, rng: ScanRange, spec: ReadSpec, batch_rows: int, batch_bytes: int
    ) -> None:
        self.table = table
        self._req: m.OpenScannerRequest = _SCAN.request(
            None, table, rng, spec, batch_rows, batch_bytes
        )
        self._rng = rng
        self._cont: ScanRange | None = None
        self._server: str | None = None
        self._last_row: bytes | None = None
        self._resumes = 0
        self._batch_rows = batch_rows
        self._batch_bytes = batch_bytes
        self._id: int | None = None  # server scanner id while open there
        self._buf: list[tuple[bytes, list[Cell]]] = []
        self._pos = 0
        self._more = True
        self._started = False
        #: segments opened (one per server run crossed, plus reopenings)
        self.segments = 0

    def buffered(self) -> bool:
        return self._pos < len(self._buf)

    def pop(self) -> tuple[bytes, list[Cell]]:
        item = self._buf[self._pos]
        self._pos += 1
        return item

    def _first_index(self, loc: TableLocations) -> int:
        """The region holding the scan's first row (RFC 0001)."""
        rng = self._rng
        start = rng.start
        if not start:
            return len(loc.names) - 1 if rng.reverse else 0
        if rng.reverse and not rng.start_inclusive:
            return loc.index_below(start)
        return loc.index(start)

    def _open(self, loc: TableLocations) -> RpcPlan[m.ScanBatchResponse]:
        self._started = True
        rng, region, server, cont = self._rng, None, None, None
        if loc.names and loc is not UNADDRESSED:
            i = self._first_index(loc)
            region, server = loc.names[i], loc.servers[i]
            rng, cont = _clip(loc, i, rng)
        req = dataclasses.replace(self._req, rng=rng, region=region)
        try:
            batch: m.ScanBatchResponse = yield from one(
                Call(_SCAN.message, req, _SCAN.answer, server)
            )
        except BaseException:
            self._started = False  # an open may be tried again
            raise
        self._server, self._cont = server, cont
        self.segments += 1
        return batch

    def _next(self) -> RpcPlan[m.ScanBatchResponse]:
        assert self._id is not None
        req = m.ScannerNextRequest(self._id, self._batch_rows, self._batch_bytes)
        try:
            batch: m.ScanBatchResponse = yield from one(
                Call(MessageType.SCANNER_NEXT, req, _SCAN.answer, self._server)
            )
            return batch
        except BaseException:
            self._more = False  # a failed next ends the scan (unless ``_resume``)
            self._id = None
            raise

    def _resume(self) -> bool:
        """After the scanner's server went away: continue after the last row received,
        wherever that region is now (False when resumed too often already)."""
        if self._resumes >= _SCAN_RESUMES:
            return False
        self._resumes += 1
        if self._last_row is not None:
            self._rng = dataclasses.replace(self._rng, start=self._last_row, start_inclusive=False)
        self._more, self._started, self._id, self._cont = True, False, None, None
        return True

    def _got(self, resp: m.ScanBatchResponse) -> None:
        self._buf = resp.rows
        self._pos = 0
        if resp.rows:
            self._last_row = resp.rows[-1][0]
        self._more = resp.more
        self._id = resp.scanner_id if resp.more else None
        if not resp.more and self._cont is not None:
            # the segment's server hosts no more of the range: continue at the next region
            self._rng, self._cont = self._cont, None
            self._more, self._started = True, False

    def close_call(self) -> Call[None] | None:
        """End the scan here; the CLOSE_SCANNER call to send, if the server holds one."""
        self._more = False
        self._cont = None
        self._buf = []
        self._pos = 0
        sid, self._id = self._id, None
        if sid is None:
            return None
        return Call(MessageType.CLOSE_SCANNER, m.CloseScannerRequest(sid), _none, self._server)

    def open_id(self) -> int | None:
        """The server scanner id while one is open (for finalizers)."""
        return getattr(self, "_id", None)

    def open_server(self) -> str | None:
        """The server holding the open scanner (for finalizers)."""
        return getattr(self, "_server", None)


def _none(_: Any) -> None:
    return None


def fill(r: Routing, cursor: ScanCursor) -> RpcPlan[bool]:
    """Bring the scan's next batch unless rows are buffered; False when it is over.
    Each open is region-addressed: refused after a split, looked up again, retried; a
    scanner whose server went away mid-scan is reopened after the last row received."""
    while not cursor.buffered():
        if not cursor._more:
            return False
        if not cursor._started:
            resp = yield from routed(r, cursor.table, cursor._open)
        else:
            try:
                resp = yield from cursor._next()
            except ConnectionLost:
                if not cursor._resume():
                    raise
                continue
        cursor._got(resp)
    return True


def close_notice(scanner_id: int) -> bytes:
    """The body of a CLOSE_SCANNER notice (sent without waiting for its answer)."""
    return packb(m.CloseScannerRequest(scanner_id).to_wire())
