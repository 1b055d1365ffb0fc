"""RegionInfo: the identity and key range of one region.

Role: built by the master and the region server from catalog entries; a Region
carries one (``Region.info``) and the manifest records it (``to_dict``) as the
region directory's first edit, so ``dump`` can name the region of a directory.
Invariants: ``start_key`` < ``end_key`` unless ``end_key`` is b"" (unbounded);
the range is half-open, ``[start_key, end_key)``.
Concurrency: immutable (frozen dataclass), shareable between threads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RegionInfo"]


@dataclass(frozen=True)
class RegionInfo:
    """Identity and key range of a region. ``end_key`` b"" means unbounded."""

    table: str
    name: str
    start_key: bytes = b""
    end_key: bytes = b""

    def contains(self, row: bytes) -> bool:
        return row >= self.start_key and (not self.end_key or row < self.end_key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "name": self.name,
            "start_key": self.start_key,
            "end_key": self.end_key,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RegionInfo:
        return cls(d["table"], d["name"], bytes(d["start_key"]), bytes(d["end_key"]))
