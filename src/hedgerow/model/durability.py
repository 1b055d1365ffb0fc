"""Durability levels of a write (HBase's ``Durability``), shared by the client API and the WAL.

Role: chosen per write by the caller (``Table.put(..., durability=...)``);
the WAL honours it. Values are HBase's ``Durability`` ordinals (USE_DEFAULT = 0
is resolved by the caller and never reaches the WAL).
Format: sent on the wire (RPC) later: never renumber.
Concurrency: immutable.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["Durability"]


class Durability(IntEnum):
    """How durable a write is when the call returns; higher is stronger."""

    SKIP_WAL = 1
    """Not logged at all: lost if the process dies before the memstore is flushed."""
    ASYNC_WAL = 2
    """Logged in memory; written by the background flusher within ~1 s or on close."""
    SYNC_WAL = 3
    """Written to the OS (``os.write`` done) before return: survives kill -9, not power loss."""
    FSYNC_WAL = 4
    """fdatasync'ed before return: survives a machine crash."""
