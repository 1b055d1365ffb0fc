"""What a compaction keeps, and running its merge-and-rewrite loop in a worker process.

Role: ``compaction_entries`` applies the data-model rules to a store's merged
input (a major compaction drops deleted, shadowed, expired and surplus
versions by ``retain_for_major_compaction``; a minor one drops only expired
cells of a family without ``min_versions``). A region runs it on the region
server's background thread, or -- when the engine option
``compaction_processes`` is above 0, as ``hedgerow standalone`` sets it --
hands a ``CompactionJob`` to a ``CompactionPool`` whose worker processes read
the input files, apply the same rules and write the output file. Only the
result (a ``FileMeta``) comes back; the region then records it in its
manifest and swaps its files as for an in-thread compaction.
Why a process: the merge loop is Python holding the GIL; on the serving
process it delays requests (get p99 about 20-30 ms during a major compaction,
docs/benchmarks.md). In a worker process it shares no GIL with them.
Invariants: store files are immutable and a region's compaction lock is held
while its job runs, so the input files exist until the job ends (closing the
region waits for that lock). The output file is written under the region's
directory at the number the region allocated; a failed job leaves at most a
partial file that no manifest names (removed like any abandoned output).
Concurrency: ``CompactionPool.run`` blocks its calling thread until the job is
done; the pool serves several background threads at once. Workers exit by
themselves within a second when the serving process dies (``_exit_with``).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from hedgerow.model.keys import split_key
from hedgerow.model.schema import ColumnFamilyDescriptor
from hedgerow.region.query_matcher import retain_for_major_compaction
from hedgerow.storage.fs import LocalFS
from hedgerow.storage.sstable_reader import SSTableReader
from hedgerow.storage.store import merged_entries, write_store_file
from hedgerow.storage.version_edit import FileMeta

__all__ = ["CompactionJob", "CompactionPool", "compaction_entries", "run_job"]

Entries = Iterator[tuple[bytes, bytes]]


def compaction_entries(
    entries: Entries, cf: ColumnFamilyDescriptor, *, major: bool, now_ms: int
) -> Entries:
    """The entries a compaction of family ``cf`` writes, from its merged input."""
    if major:
        return retain_for_major_compaction(entries, cf, now_ms)
    if cf.ttl_ms is not None and cf.min_versions == 0:
        return _drop_expired(entries, now_ms - cf.ttl_ms)
    return entries


def _drop_expired(entries: Entries, oldest: int) -> Entries:
    for key, value in entries:
        if split_key(key)[2] >= oldest:
            yield key, value


@dataclass(frozen=True)
class CompactionJob:
    """One store's compaction, as a worker process needs it (picklable)."""

    #: the chosen input files
    inputs: tuple[str, ...]
    #: internal-key range of the region (files shared after a split hold keys outside it)
    start: bytes
    stop: bytes | None
    cf: ColumnFamilyDescriptor
    major: bool
    now_ms: int
    output: str
    file_number: int


def run_job(job: CompactionJob) -> FileMeta | None:
    """Merge the inputs, keep what ``compaction_entries`` keeps, write ``job.output``."""
    fs = LocalFS()
    readers = [SSTableReader.open(fs, p, file_id=i, cache=None) for i, p in enumerate(job.inputs)]
    try:
        its = [r.iter_from(job.start, job.stop) for r in readers]
        entries = compaction_entries(
            merged_entries(its), job.cf, major=job.major, now_ms=job.now_ms
        )
        return write_store_file(fs, job.output, job.cf, entries, job.file_number, job.now_ms)
    finally:
        for r in readers:
            r.close()


def _exit_with(server_pid: int) -> None:
    """Worker initializer: leave when the serving process is gone, even by SIGKILL (a
    worker blocked on its job queue would otherwise outlive it: the queue's pipe stays
    open in the worker itself)."""

    def watch() -> None:
        while _alive(server_pid):
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="hedgerow-compaction-watchdog", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process not yet reaped by its parent is a zombie: gone for us
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return True


class CompactionPool:
    """Worker processes that run ``CompactionJob``s (started on first use).

    >>> pool = CompactionPool(1)
    >>> pool.close()
    """

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None

    def run(self, job: CompactionJob) -> FileMeta | None:
        """Run one job in a worker and wait for its result (errors are re-raised here)."""
        if self._executor is None:
            # forkserver: workers start from a clean single-threaded process, never a
            # fork of this multi-threaded server
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            self._executor = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=ctx,
                initializer=_exit_with,
                initargs=(os.getpid(),),
            )
        return self._executor.submit(run_job, job).result()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
