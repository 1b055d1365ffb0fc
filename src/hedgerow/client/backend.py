"""The backend protocol: what the client API needs from wherever the data lives.

Role: ``Connection`` and ``Table`` talk only to a ``Backend``. The embedded
engine implements it directly (hedgerow.engine.Engine); the network client
will implement it over RPC. Types come from ``hedgerow.model`` only, so the
client never imports engine code (layer rule, ../shared/vision.md).
Concurrency: implementations are thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from hedgerow.model.cell import Cell
from hedgerow.model.durability import Durability
from hedgerow.model.mutation import RowMutation
from hedgerow.model.read_spec import ReadSpec, ScanRange
from hedgerow.model.schema import TableDescriptor

__all__ = ["Backend", "RegionDescription"]


class RegionDescription(Protocol):
    table: str
    name: str
    start_key: bytes
    end_key: bytes


class Backend(Protocol):
    """Operations every Hedgerow deployment serves."""

    # tables
    def table_names(self) -> list[str]: ...
    def descriptor(self, table: str) -> TableDescriptor: ...
    def create_table(self, desc: TableDescriptor, split_keys: Sequence[bytes] = ()) -> None: ...
    def delete_table(self, table: str) -> None: ...
    def modify_table(self, desc: TableDescriptor) -> None: ...
    def truncate_table(self, table: str, *, preserve_splits: bool = True) -> None: ...
    def enable_table(self, table: str) -> None: ...
    def disable_table(self, table: str) -> None: ...
    def is_table_enabled(self, table: str) -> bool: ...
    def regions(self, table: str) -> Sequence[RegionDescription]: ...
    def region_locations(self, table: str) -> Sequence[tuple[RegionDescription, str]]:
        """The table's regions in key order, each with its hosting server."""
        ...

    def flush_table(self, table: str) -> None: ...
    def split_region(
        self, table: str, region_name: str | None = None, split_row: bytes | None = None
    ) -> tuple[str, str]: ...
    def merge_regions(self, table: str, region_a: str, region_b: str) -> str: ...
    def status(self) -> dict[str, Any]: ...
    def compact_table(self, table: str, *, major: bool = False) -> None: ...

    # writing
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

    # reading
    def get(self, table: str, row: bytes, spec: ReadSpec) -> list[Cell]: ...
    def get_many(self, table: str, rows: Sequence[bytes], spec: ReadSpec) -> list[list[Cell]]:
        """Each row's cells, in order; a filter in ``spec`` is copied fresh for every row."""
        ...

    def scan(
        self, table: str, rng: ScanRange, spec: ReadSpec
    ) -> Iterator[tuple[bytes, list[Cell]]]: ...

    def close(self) -> None: ...


_ = Durability  # re-exported for implementers' signatures
