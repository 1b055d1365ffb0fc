"""A region server's background work: flushes, compactions, split requests, back-pressure.

Role: the background half of ``RegionServer`` (a mixin over
``RegionServerCore``). Writes and flushes ask for work with ``_request``; worker
threads (or the caller, without ``background``) run one flush or compaction at
a time per kind (``_run_background``); after a flush a region is compacted when
it has enough files, and after a compaction the master is asked to split it
when it outgrew ``region_split_bytes``. ``_before_write`` is the hook every
region runs before a write batch (docs/design/storage.md, "The write path's
contract").
Invariants: a failed background flush is retried with backoff and logged, never
reported to another request; writers see ``RegionTooBusy``/``StorageFull`` only
once a region that cannot flush reaches its blocking size (flush size x
``blocking_multiplier``), after at most ``busy_wait_s``; a region is queued at
most once per kind (``_pending``).
Concurrency: ``_pending`` is guarded by ``_pending_lock``; writers blocked in
``_before_write`` wait on the region's ``_size_cond``, notified by every flush.
"""

from __future__ import annotations

import logging
import threading

from hedgerow.engine.meta import (
    is_reserved,
)
from hedgerow.engine.regionserver_core import RegionServerCore
from hedgerow.errors import (
    ClosedError,
    InvalidArgument,
    RegionClosed,
    RegionTooBusy,
    StorageError,
    StorageFull,
    TableDisabled,
    TableNotFound,
)
from hedgerow.region.region import Region

__all__ = ["BackgroundWork"]

log = logging.getLogger("hedgerow.regionserver")


class BackgroundWork(RegionServerCore):
    """Background work: ``request_compaction``, ``after_flush``, ``compact_region``."""

    def _worker(self, kind: str) -> None:
        q = self._flush_queue if kind == "flush" else self._compact_queue
        while True:
            region = q.get()
            if region is None:
                return
            with self._pending_lock:
                self._pending.discard((kind, region.info.name))
            if region.closed:
                continue
            self._run_background(kind, region)

    def _run_background(self, kind: str, region: Region) -> None:
        """One flush (then the compaction check) or one compaction, on a worker thread or
        inline. A failed flush is retried with backoff (its memstore and WAL edits stay;
        writers see RegionTooBusy/StorageFull only once the memstore reaches its blocking
        size); a failed compaction changes nothing and is tried again after the next flush.
        Failures are logged, never reported to an unrelated request."""
        name = region.info.name
        try:
            if kind == "flush":
                region.flush()
                self._flush_failures.pop(name, None)
                self._maybe_compact(region)
            else:
                self.compact_region(region, major=False)
                self._maybe_split(region)
        except StorageError as e:
            if kind != "flush":
                log.error("compaction of region %s failed (retried later): %s", name, e)
                return
            delay = self._flush_failures.get(name, (0.0, e, 0))[0]
            delay = min(
                max(delay * 2, self.config.flush_retry_min_s), self.config.flush_retry_max_s
            )
            self._failed_flushes += 1
            self._flush_failures[name] = (delay, e, self._failed_flushes)
            log.error("flush of region %s failed, retrying in %.2f s: %s", name, delay, e)
            if self.config.background and not self._closed:
                t = threading.Timer(delay, self._request, ("flush", region))
                t.daemon = True
                t.start()
        except (RegionClosed, ClosedError):
            pass  # closed meanwhile (split, merge, alter, shutdown)
        except Exception:
            log.exception("background %s of region %s failed", kind, name)

    def request_compaction(self, region: Region) -> None:
        self._request("compact", region)

    def after_flush(self, region: Region) -> None:
        """A region was flushed outside the flush thread (hbase:meta after each change):
        compact it when it has enough files, as after any flush."""
        self._maybe_compact(region)

    def _request(self, kind: str, region: Region) -> None:
        if not self.config.background:
            self._run_background(kind, region)
            return
        key = (kind, region.info.name)
        with self._pending_lock:
            if key in self._pending:
                return
            self._pending.add(key)
        (self._flush_queue if kind == "flush" else self._compact_queue).put(region)

    def _maybe_compact(self, region: Region) -> None:
        if region.needs_compaction(self.config.compaction_min_files) or region.has_references():
            self._request("compact", region)
        else:
            self._maybe_split(region)

    def _maybe_split(self, region: Region) -> None:
        limit = self.config.region_split_bytes
        if (
            self.request_split is None
            or limit <= 0
            or is_reserved(region.info.table)  # hbase:meta is one region, never split
            or region.closed
            or region.has_references()
            or region.size_bytes() < limit
        ):
            return
        try:
            self.request_split(region.info.table, region.info.name)
        except (RegionClosed, TableNotFound, TableDisabled):
            pass  # the table changed meanwhile
        except InvalidArgument as e:
            log.info("region %s not split: %s", region.info.name, e)

    def compact_region(self, region: Region, *, major: bool) -> None:
        """Compact one region now (major when asked or when the periodic major is due)."""
        cfg = self.config
        period = cfg.major_compaction_period_s
        if (
            not major
            and period > 0
            and self.clock.now_ms() - region.last_major_compaction_ms > period * 1000
            and region.last_major_compaction_ms > 0
        ):
            major = True
        region.compact(
            major=major,
            min_files=cfg.compaction_min_files,
            max_files=cfg.compaction_max_files,
            ratio=cfg.compaction_ratio,
        )
        if region.last_major_compaction_ms == 0:
            region.last_major_compaction_ms = self.clock.now_ms()

    def _before_write(self, region: Region) -> None:
        """Writers wait while the region's memstore is at its blocking size (flush size x
        blocking_multiplier) for a flush to make room (one is tried at once, even while
        failing flushes back off), at most ``busy_wait_s``; then, or as soon as a flush
        tried meanwhile fails, they get RegionTooBusy (StorageFull for a full disk): the
        bound on what a region accepts when it cannot flush."""
        limit = self.config.flush_size_bytes * self.config.blocking_multiplier
        if region.memstore_size() < limit:
            return
        name = region.info.name
        failed_before = self._failed_flushes
        deadline = self.clock.monotonic_s() + self.config.busy_wait_s
        with region._size_cond:
            while region.memstore_size() >= limit and not self._closed:
                failure = self._flush_failures.get(name)
                if failure is not None and failure[2] > failed_before:
                    # a flush tried while this writer waited failed: no room soon
                    raise _too_busy(region, limit, failure[1])
                if self.clock.monotonic_s() >= deadline:
                    raise _too_busy(region, limit, failure[1] if failure else None)
                self._request("flush", region)  # also retries a failing one now
                region._size_cond.wait(0.05)

    def _after_write(self, region: Region) -> None:
        if region.needs_flush(self.config.flush_size_bytes):
            self._request("flush", region)


def _too_busy(region: Region, limit: int, cause: StorageError | None) -> StorageError:
    what = f"region {region.info.name} of table {region.info.table!r}"
    if isinstance(cause, StorageFull):
        err: StorageError = StorageFull(
            f"{what} cannot take more writes: its memstore is at its blocking size "
            f"({limit} bytes) and it cannot flush: {cause}"
        )
    elif cause is not None:
        err = RegionTooBusy(
            f"{what} is over its memstore blocking size ({limit} bytes) and its flushes "
            f"are failing ({cause}); nothing was written, retry later"
        )
    else:
        err = RegionTooBusy(
            f"{what} is over its memstore blocking size ({limit} bytes); flushes are "
            "behind; nothing was written, retry later"
        )
    err.__cause__ = cause
    return err
