"""``AsyncRpcBackend``: the asyncio flavour of ``RpcBackend``, over an ``AsyncSocketTransport``.

Role: what ``hedgerow.aio.connect("hedgerow://...")`` gives ``AsyncConnection``;
every method is the ``async`` twin of the ``RpcBackend`` method of the same
name, built from the same ``Calls`` (rpc/client.py) and routed by the same
rules (rpc/locator.py: region-addressed calls, a location cache refreshed on
NOT_SERVING_REGION, backoff until the deadline, per-region parts sent at once
with ``asyncio.gather``), so requests, answers and errors are identical.
Format: messages per docs/formats/rpc.md#messages.
Invariants: a scan (``async for row, cells in backend.scan(...)``) opens its
server scanner on the first ``__anext__``, pulls one batch at a time, and
closes the server scanner when exhausted, on ``aclose()``, or when
garbage-collected (a CLOSE_SCANNER notice scheduled on its event loop).
Concurrency: one event loop (the transport's); any number of coroutines may
call at once (requests are multiplexed on one connection); one scan belongs to
one coroutine at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from hedgerow.errors import NotServingRegion
from hedgerow.model.cell import Cell
from hedgerow.model.mutation import RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor
from hedgerow.rpc import messages as m
from hedgerow.rpc.client import (
    Call,
    Calls,
    ScanCursor,
    addresses_regions,
    close_notice,
    mutation_row,
    region_locations,
    row_itself,
)
from hedgerow.rpc.codec import unpackb
from hedgerow.rpc.locator import UNADDRESSED, Backoff, FanOut, RegionLocator, TableLocations
from hedgerow.rpc.transport import AsyncTransport
from hedgerow.rpc.wire_format import MessageType as T

__all__ = ["AsyncRemoteScanner", "AsyncRpcBackend"]

R = TypeVar("R")


class AsyncRpcBackend:
    """``RpcBackend`` with ``async`` methods (``scan`` returns an async iterator).

    ``timeout_s`` (None: the transport's default) is every call's deadline;
    ``scan_batch_rows``/``scan_batch_bytes`` bound each scan batch.
    """

    def __init__(
        self,
        transport: AsyncTransport,
        *,
        timeout_s: float | None = None,
        scan_batch_rows: int = 100,
        scan_batch_bytes: int = 1 << 20,
    ) -> None:
        self.transport = transport
        self.timeout_s = timeout_s
        self.scan_batch_rows = scan_batch_rows
        self.scan_batch_bytes = scan_batch_bytes
        #: region locations (RFC 0001): every data call names its region
        self.locator = RegionLocator()

    async def _run(self, c: Call[R]) -> R:
        return c.decode(unpackb(await self.transport.call(c.type, c.body(), self.timeout_s)))

    async def _relayout(self, table: str, c: Call[R]) -> R:
        """``RpcBackend._relayout``: run a call that gives ``table`` new regions, then
        drop its cached locations."""
        try:
            return await self._run(c)
        finally:
            self.locator.forget(table)

    async def _locations(self, table: str) -> TableLocations:
        if not addresses_regions(self.transport):
            return UNADDRESSED
        loc = self.locator.cached(table)
        if loc is None:
            regions: list[m.RegionInfo] = await self._run(Calls.regions(table))
            if not addresses_regions(self.transport):
                return UNADDRESSED
            loc = self.locator.install(table, regions)
        return loc

    async def _routed(self, table: str, attempt: Callable[[TableLocations], Awaitable[R]]) -> R:
        """``RpcBackend._routed``, awaiting: retry on NotServingRegion with fresh
        locations and backoff until the deadline."""
        try:
            return await attempt(await self._locations(table))
        except NotServingRegion as e:
            last = e
        backoff = Backoff.for_call(self.transport, self.timeout_s)
        while True:
            self.locator.forget(table)
            delay = backoff.next_delay()
            if delay is None:
                raise last
            await asyncio.sleep(delay)
            try:
                return await attempt(await self._locations(table))
            except NotServingRegion as e:
                last = e

    async def _fan_out(
        self, table: str, fan: FanOut[Any], build: Callable[[str | None, list[Any]], Call[Any]]
    ) -> None:
        """One call per region, all in flight at once; refused parts are regrouped."""

        async def attempt(loc: TableLocations) -> None:
            parts = fan.parts(loc)
            calls = [build(region, fan.part_items(idx)) for region, idx in parts]
            answers = await asyncio.gather(*(self._run(c) for c in calls), return_exceptions=True)
            fan.settle(parts, answers)

        await self._routed(table, attempt)

    # ---- tables -----------------------------------------------------------------------

    async def table_names(self) -> list[str]:
        return await self._run(Calls.table_names())

    async def descriptor(self, table: str) -> TableDescriptor:
        return await self._run(Calls.descriptor(table))

    async def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None:
        await self._relayout(desc.name, Calls.create_table(desc, split_keys))

    async def delete_table(self, table: str) -> None:
        await self._relayout(table, Calls.delete_table(table))

    async def modify_table(self, desc: TableDescriptor) -> None:
        await self._run(Calls.modify_table(desc))

    async def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None:
        await self._relayout(table, Calls.truncate_table(table, preserve_splits))

    async def enable_table(self, table: str) -> None:
        await self._run(Calls.enable_table(table))

    async def disable_table(self, table: str) -> None:
        await self._run(Calls.disable_table(table))

    async def is_table_enabled(self, table: str) -> bool:
        return await self._run(Calls.is_table_enabled(table))

    async def regions(self, table: str) -> list[m.RegionInfo]:
        return await self._run(Calls.regions(table))

    async def region_locations(self, table: str) -> list[tuple[m.RegionInfo, str]]:
        """The table's regions with their hosting servers (also refreshes the cache)."""
        regions: list[m.RegionInfo] = await self._run(Calls.regions(table))
        self.locator.install(table, regions)
        return region_locations(regions)

    async def flush_table(self, table: str) -> None:
        await self._run(Calls.flush_table(table))

    async def compact_table(self, table: str, *, major: bool = False) -> None:
        await self._run(Calls.compact_table(table, major))

    async def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]:
        return await self._relayout(table, Calls.split_region(table, region_name, split_row))

    async def merge_regions(self, table: str, region_a: str, region_b: str) -> str:
        return await self._relayout(table, Calls.merge_regions(table, region_a, region_b))

    async def status(self) -> dict[str, Any]:
        return await self._run(Calls.status())

    # ---- writing ----------------------------------------------------------------------

    async def mutate(
        self, table: str, mutations: Sequence[RowMutation], durability: Any = None
    ) -> None:
        fan = FanOut(mutations, mutation_row)
        await self._fan_out(
            table, fan, lambda region, part: Calls.mutate_part(table, part, durability, region)
        )

    async def increment(
        self,
        table: str,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Any = None,
    ) -> dict[tuple[bytes, bytes], int]:
        return await self._routed(
            table,
            lambda loc: self._run(
                Calls.increment(table, row, amounts, durability, loc.locate(row))
            ),
        )

    async def append(
        self,
        table: str,
        row: bytes,
        suffixes: dict[tuple[bytes, bytes], bytes],
        durability: Any = None,
    ) -> dict[tuple[bytes, bytes], bytes]:
        return await self._routed(
            table,
            lambda loc: self._run(Calls.append(table, row, suffixes, durability, loc.locate(row))),
        )

    async def check_and_mutate(
        self,
        table: str,
        row: bytes,
        family: bytes,
        qualifier: bytes,
        compare: Callable[[bytes | None], bool],
        mutation: RowMutation,
        durability: Any = None,
    ) -> bool:
        return await self._routed(
            table,
            lambda loc: self._run(
                Calls.check_and_mutate(
                    table, row, family, qualifier, compare, mutation, durability, loc.locate(row)
                )
            ),
        )

    # ---- reading ----------------------------------------------------------------------

    async def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]:
        return await self._routed(
            table, lambda loc: self._run(Calls.get(table, row, spec, loc.locate(row)))
        )

    async def get_many(self, table: str, rows: Sequence[bytes], spec: ReadSpec) -> list[list[Cell]]:
        fan = FanOut(rows, row_itself)
        await self._fan_out(
            table, fan, lambda region, part: Calls.get_many(table, part, spec, region)
        )
        got: list[list[Cell]] = fan.per_item()
        return got

    def scan(self, table: str, rng: ScanRange, spec: ReadSpec) -> AsyncRemoteScanner:
        """Rows in ``rng``: ``async for row, cells in backend.scan(...)`` (no I/O until then)."""
        return AsyncRemoteScanner(self, table, rng, spec)

    async def close(self) -> None:
        await self.transport.close()


class AsyncRemoteScanner(ScanCursor, AsyncIterator[tuple[bytes, list[Cell]]]):
    """Iterates a server-side scanner batch by batch; see ``AsyncRpcBackend.scan``."""

    def __init__(
        self, backend: AsyncRpcBackend, table: str, rng: ScanRange, spec: ReadSpec
    ) -> None:
        super().__init__(table, rng, spec, backend.scan_batch_rows, backend.scan_batch_bytes)
        self._backend = backend
        self._loop: asyncio.AbstractEventLoop | None = None

    def __aiter__(self) -> AsyncRemoteScanner:
        return self

    async def __anext__(self) -> tuple[bytes, list[Cell]]:
        while not self.buffered():
            if self._loop is None:
                self._loop = asyncio.get_running_loop()
            if self.opening():
                resp = await self._backend._routed(self.table, self._open)
            else:
                call = self.next_call()
                if call is None:
                    raise StopAsyncIteration
                try:
                    resp = await self._backend._run(call)
                except BaseException:
                    self.failed(call)
                    raise
            self.got(resp)
        return self.pop()

    async def _open(self, loc: TableLocations) -> m.ScanBatchResponse:
        call = self.open_call(self.first_region(loc))
        try:
            return await self._backend._run(call)
        except BaseException:
            self.failed(call)
            raise

    async def aclose(self) -> None:
        """Close the server scanner now (idempotent)."""
        call = self.close_call()
        if call is not None:
            await self._backend._run(call)

    async def __aenter__(self) -> AsyncRemoteScanner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __del__(self) -> None:
        sid = self.open_id()
        loop = getattr(self, "_loop", None)
        if sid is None or loop is None or loop.is_closed():
            return  # nothing open, or the server's lease will expire it
        try:
            loop.call_soon_threadsafe(
                self._backend.transport.notify, T.CLOSE_SCANNER, close_notice(sid)
            )
        except Exception:
            pass
