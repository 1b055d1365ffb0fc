"""What an RPC server serves: the ``Handler`` protocol (the Backend operations).

Role: ``RpcServer`` and ``InMemoryTransport`` decode a request and call the
handler method of the same name; the embedded engine (``hedgerow.engine.Engine``)
already has this shape, so ``RpcServer(engine)`` serves it.  Region servers and
the master implement it later (plus their own message types).
Invariants: methods are blocking and thread-safe: the server calls them from a
thread pool, many at once.  ``durability`` is passed only when the client sent
one, so the handler's own default applies otherwise.  ``scan`` returns an
iterator the server pulls batch by batch and closes (``close()`` if it has one)
when the scanner is exhausted, closed, or its lease expires.
Concurrency: see Invariants.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from hedgerow.model.cell import Cell
from hedgerow.model.mutation import RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor

__all__ = ["Handler", "RegionLike"]


class RegionLike(Protocol):
    table: str
    name: str
    start_key: bytes
    end_key: bytes


class Handler(Protocol):
    """Operations an RPC server dispatches to, one per message type.

    Tables: table_names, descriptor, create_table, delete_table, modify_table,
    truncate_table, enable_table, disable_table, is_table_enabled, regions,
    region_locations, flush_table, compact_table.  Writing: mutate, increment, append,
    check_and_mutate.  Reading: get, scan.
    """

    def table_names(self) -> list[str]: ...
    def descriptor(self, table: str) -> TableDescriptor: ...
    def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None: ...
    def delete_table(self, table: str) -> None: ...
    def modify_table(self, desc: TableDescriptor) -> None: ...
    def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None: ...
    def enable_table(self, table: str) -> None: ...
    def disable_table(self, table: str) -> None: ...
    def is_table_enabled(self, table: str) -> bool: ...
    def regions(self, table: str) -> Sequence[RegionLike]: ...
    def region_locations(self, table: str) -> Sequence[tuple[RegionLike, str]]:
        """The table's regions in key order, each with the server hosting it (REGIONS)."""
        ...

    def flush_table(self, table: str) -> None: ...
    def compact_table(self, table: str, *, major: bool = False) -> None: ...
    def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]: ...
    def merge_regions(self, table: str, region_a: str, region_b: str) -> str: ...
    def status(self) -> dict[str, Any]: ...

    def mutate(
        self, table: str, mutations: Sequence[RowMutation], durability: Any = ...
    ) -> None: ...
    def increment(
        self,
        table: str,
        row: bytes,
        amounts: dict[tuple[bytes, bytes], int],
        durability: Any = ...,
    ) -> dict[tuple[bytes, bytes], int]: ...
    def append(
        self,
        table: str,
        row: bytes,
        suffixes: dict[tuple[bytes, bytes], bytes],
        durability: Any = ...,
    ) -> dict[tuple[bytes, bytes], bytes]: ...
    def check_and_mutate(
        self,
        table: str,
        row: bytes,
        family: bytes,
        qualifier: bytes,
        compare: Callable[[bytes | None], bool],
        mutation: RowMutation,
        durability: Any = ...,
    ) -> bool: ...

    def check_region(self, table: str, region: str, rows: Sequence[bytes]) -> None:
        """Raise NotServingRegion unless ``region`` is open here and holds every row."""
        ...

    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]: ...
    def get_many(self, table: str, rows: Sequence[bytes], spec: ReadSpec) -> list[list[Cell]]: ...
    def scan(
        self, table: str, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]: ...
