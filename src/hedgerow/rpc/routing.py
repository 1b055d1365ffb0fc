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
Invariants: a region-addressed call refused with NOT_SERVING_REGION is retried
with fresh locations and backoff (10 ms doubling to 1 s) until the call's
deadline; a RELAYOUT call drops the table's cached locations whatever its
outcome; a FAN_OUT call resends only the parts a region refused.  A driver sends
a one-call ``Send`` as a plain call (its error is thrown into the plan) and a
many-call ``Send`` with every call in flight at once (errors come back in place).
Concurrency: a plan belongs to one caller; ``Routing`` (the location cache) is
shared and thread-safe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hedgerow.errors import NotServingRegion
from hedgerow.model.cell import Cell
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.rpc import messages as m
from hedgerow.rpc.codec import packb
from hedgerow.rpc.locator import UNADDRESSED, Backoff, FanOut, RegionLocator, TableLocations
from hedgerow.rpc.operations import OPERATIONS, Kind, MessageType, Operation

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


@dataclass(frozen=True, slots=True)
class Call(Generic[R]):
    """One RPC, independent of how it is sent: its type, request, and answer decoder."""

    type: MessageType
    request: Any  # an rpc.messages request (has to_wire)
    decode: Callable[[Any], R]  # the unpacked response body -> the result

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

    @property
    def locator(self) -> RegionLocator:
        """The region location cache (RFC 0001)."""
        return self.routing.locator


def one(call: Call[R]) -> RpcPlan[R]:
    """The plan of a single call."""
    body = (yield Send((call,)))[0]
    return call.decode(body)


def _exchange(calls: Sequence[Call[Any]]) -> RpcPlan[list[Any]]:
    """Several calls at once; each answer decoded, or the exception it raised (a single
    call's NOT_SERVING_REGION comes back the same way; its other errors are raised)."""
    if len(calls) == 1:
        try:
            return [(yield from one(calls[0]))]
        except NotServingRegion as e:
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


def routed(r: Routing, table: str, attempt: Callable[[TableLocations], RpcPlan[R]]) -> RpcPlan[R]:
    """Run a region-addressed ``attempt`` with the table's locations; on
    NotServingRegion look the table up again and retry with backoff until the deadline."""
    try:  # fast path: the cached location is right, no deadline bookkeeping
        return (yield from attempt((yield from locations(r, table))))
    except NotServingRegion as e:
        last = e
    backoff = r.new_backoff()
    while True:
        r.locator.forget(table)
        delay = backoff.next_delay()
        if delay is None:
            raise last
        yield Sleep(delay)
        try:
            return (yield from attempt((yield from locations(r, table))))
        except NotServingRegion as e:
            last = e


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
            req = op.request(loc.locate(row), *args, **kwargs)
            return one(Call(op.message, req, op.answer))

        return (yield from routed(r, table, attempt))
    if kind is Kind.FAN_OUT:
        assert op.item_row is not None
        fan: FanOut[Any] = FanOut(args[1], op.item_row)

        def send_parts(loc: TableLocations) -> RpcPlan[None]:
            parts = fan.parts(loc)
            calls = [
                Call(
                    op.message, op.request(region, fan.part_items(idx), *args, **kwargs), op.answer
                )
                for region, idx in parts
            ]
            fan.settle(parts, (yield from _exchange(calls)))

        yield from routed(r, table, send_parts)
        return None if op.response_class is None else fan.per_item()
    raise AssertionError(f"{op.name}: a {kind.value} operation is not run by call()")


class ScanCursor:
    """The state of a server-side scan, shared by the blocking and asyncio scanners.

    ``fill`` (below) brings the next batch; ``pop`` takes the next buffered row;
    ``close_call`` ends the scan here.
    """

    def __init__(
        self, table: str, rng: ScanRange, spec: ReadSpec, batch_rows: int, batch_bytes: int
    ) -> None:
        self.table = table
        self._req: m.OpenScannerRequest = _SCAN.request(
            None, table, rng, spec, batch_rows, batch_bytes
        )
        self._batch_rows = batch_rows
        self._batch_bytes = batch_bytes
        self._id: int | None = None  # server scanner id while open there
        self._buf: list[tuple[bytes, list[Cell]]] = []
        self._pos = 0
        self._more = True
        self._started = False

    def buffered(self) -> bool:
        return self._pos < len(self._buf)

    def pop(self) -> tuple[bytes, list[Cell]]:
        item = self._buf[self._pos]
        self._pos += 1
        return item

    def _first_region(self, loc: TableLocations) -> str | None:
        """The region holding the scan's first row, which the open names (RFC 0001)."""
        start = self._req.rng.start
        if not start:
            return loc.last() if self._req.rng.reverse else loc.locate(b"")
        return loc.locate(start)

    def _open(self, loc: TableLocations) -> RpcPlan[m.ScanBatchResponse]:
        self._started = True
        req = dataclasses.replace(self._req, region=self._first_region(loc))
        try:
            batch: m.ScanBatchResponse = yield from one(Call(_SCAN.message, req, _SCAN.answer))
            return batch
        except BaseException:
            self._started = False  # an open may be tried again
            raise

    def _next(self) -> RpcPlan[m.ScanBatchResponse]:
        assert self._id is not None
        req = m.ScannerNextRequest(self._id, self._batch_rows, self._batch_bytes)
        try:
            batch: m.ScanBatchResponse = yield from one(
                Call(MessageType.SCANNER_NEXT, req, _SCAN.answer)
            )
            return batch
        except BaseException:
            self._more = False  # a failed next ends the scan
            self._id = None
            raise

    def _got(self, resp: m.ScanBatchResponse) -> None:
        self._buf = resp.rows
        self._pos = 0
        self._more = resp.more
        self._id = resp.scanner_id if resp.more else None

    def close_call(self) -> Call[None] | None:
        """End the scan here; the CLOSE_SCANNER call to send, if the server holds one."""
        self._more = False
        self._buf = []
        self._pos = 0
        sid, self._id = self._id, None
        if sid is None:
            return None
        return Call(MessageType.CLOSE_SCANNER, m.CloseScannerRequest(sid), _none)

    def open_id(self) -> int | None:
        """The server scanner id while one is open (for finalizers)."""
        return getattr(self, "_id", None)


def _none(_: Any) -> None:
    return None


def fill(r: Routing, cursor: ScanCursor) -> RpcPlan[bool]:
    """Bring the scan's next batch unless rows are buffered; False when it is over.
    The open is region-addressed: refused after a split, looked up again, retried."""
    while not cursor.buffered():
        if not cursor._more:
            return False
        if not cursor._started:
            resp = yield from routed(r, cursor.table, cursor._open)
        else:
            resp = yield from cursor._next()
        cursor._got(resp)
    return True


def close_notice(scanner_id: int) -> bytes:
    """The body of a CLOSE_SCANNER notice (sent without waiting for its answer)."""
    return packb(m.CloseScannerRequest(scanner_id).to_wire())
