"""Engine settings: one DEFAULTS mapping, each knob with its reason.

Role: ``hedgerow.connect(path, **options)`` and the servers build an
``EngineConfig`` from these defaults plus overrides; unknown names are an
error naming the option.
Concurrency: immutable.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass, fields
from typing import Any

from hedgerow.errors import InvalidArgument

__all__ = ["DEFAULTS", "EngineConfig", "max_open_files"]

DEFAULTS: dict[str, Any] = {
    # A region's memstores are flushed to store files past this size
    # (HBase hbase.hregion.memstore.flush.size = 128 MiB).
    "flush_size_bytes": 128 * 1024 * 1024,
    # Writers to a region wait while its memstores exceed flush size x this
    # (HBase hbase.hregion.memstore.block.multiplier = 4).
    "blocking_multiplier": 4,
    # ...for at most this many seconds, then get RegionTooBusy (at once while the region's
    # flushes are failing: a full disk gives StorageFull); HBase throws RegionTooBusy
    # when over the blocking size and its client retries.
    "busy_wait_s": 5.0,
    # A failed background flush is retried after this many seconds, doubling per failure
    # up to flush_retry_max_s (its memstore and WAL edits are kept meanwhile).
    "flush_retry_min_s": 0.1,
    "flush_retry_max_s": 10.0,
    # Minor compaction file selection (HBase hbase.hstore.compaction.min/max/ratio).
    "compaction_min_files": 3,
    "compaction_max_files": 10,
    "compaction_ratio": 1.2,
    # Shared block cache budget in bytes.
    "block_cache_bytes": 256 * 1024 * 1024,
    # WAL files roll past this size.
    "wal_roll_bytes": 64 * 1024 * 1024,
    # Periodic major compaction per store (HBase hbase.hregion.majorcompaction = 7 days);
    # 0 disables it.
    "major_compaction_period_s": 7 * 24 * 3600,
    # A region whose store files pass this size is split at its middle row
    # (HBase hbase.hregion.max.filesize = 10 GiB); 0 disables automatic splits.
    "region_split_bytes": 10 * 1024**3,
    # Largest cell value accepted (HBase hbase.server.keyvalue.maxsize = 10 MiB).
    "max_cell_bytes": 10 * 1024 * 1024,
    # Run flushes and compactions on background threads. False runs them inline,
    # at the write that triggered them: deterministic, for tests.
    "background": True,
    # Recovery: skip (loudly) over a corrupt WAL region instead of refusing to open.
    "skip_corrupt_wal": False,
    # Worker processes that run compactions' merge-and-rewrite loop off the serving
    # process's GIL (hedgerow.region.compaction); 0 compacts on the background thread.
    # hedgerow standalone uses 1.
    "compaction_processes": 0,
    # Store-file handles a region server keeps open at once (LevelDB's max_open_files):
    # past it the least recently used idle handle is closed and its file reopened at
    # its next read (docs/design/storage.md#open-files). 0 = half the process's soft
    # RLIMIT_NOFILE at open (512 under `ulimit -n 1024`), the other half left for the
    # WAL, one manifest per open region, sockets and clients.
    "max_open_files": 0,
    # Region servers in this process (standalone and embedded); each keeps its WAL in
    # WALs/<id>/ of the one data directory and the master assigns regions among them.
    "region_servers": 1,
    # Seconds between balancer runs (HBase's hbase.balancer.period is 300 s); 0 = only
    # on demand (Admin.balance, the shell's `balancer`).
    "balancer_period_s": 300.0,
}


@dataclass(frozen=True)
class EngineConfig:
    flush_size_bytes: int = DEFAULTS["flush_size_bytes"]
    blocking_multiplier: int = DEFAULTS["blocking_multiplier"]
    busy_wait_s: float = DEFAULTS["busy_wait_s"]
    flush_retry_min_s: float = DEFAULTS["flush_retry_min_s"]
    flush_retry_max_s: float = DEFAULTS["flush_retry_max_s"]
    compaction_min_files: int = DEFAULTS["compaction_min_files"]
    compaction_max_files: int = DEFAULTS["compaction_max_files"]
    compaction_ratio: float = DEFAULTS["compaction_ratio"]
    block_cache_bytes: int = DEFAULTS["block_cache_bytes"]
    wal_roll_bytes: int = DEFAULTS["wal_roll_bytes"]
    major_compaction_period_s: int = DEFAULTS["major_compaction_period_s"]
    region_split_bytes: int = DEFAULTS["region_split_bytes"]
    max_cell_bytes: int = DEFAULTS["max_cell_bytes"]
    background: bool = DEFAULTS["background"]
    skip_corrupt_wal: bool = DEFAULTS["skip_corrupt_wal"]
    compaction_processes: int = DEFAULTS["compaction_processes"]
    max_open_files: int = DEFAULTS["max_open_files"]
    region_servers: int = DEFAULTS["region_servers"]
    balancer_period_s: float = DEFAULTS["balancer_period_s"]

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> EngineConfig:
        """Defaults overridden by ``options``; every value is checked and errors name the option."""
        known = {f.name: f for f in fields(cls)}
        for k, v in options.items():
            if k not in known:
                raise InvalidArgument(
                    f"unknown engine option {k!r}; known options: {', '.join(sorted(known))}"
                )
            _check_option(k, v)
        cfg = cls(**options)
        if cfg.compaction_min_files < 2 or cfg.compaction_max_files < cfg.compaction_min_files:
            raise InvalidArgument(
                "compaction_min_files and compaction_max_files need "
                "2 <= compaction_min_files <= compaction_max_files"
            )
        return cfg


# option -> (type, minimum)
_RULES: dict[str, tuple[type, float]] = {
    "flush_size_bytes": (int, 1024),
    "blocking_multiplier": (int, 1),
    "busy_wait_s": (float, 0.0),
    "flush_retry_min_s": (float, 0.001),
    "flush_retry_max_s": (float, 0.001),
    "compaction_min_files": (int, 2),
    "compaction_max_files": (int, 2),
    "compaction_ratio": (float, 0.0),
    "block_cache_bytes": (int, 0),
    "wal_roll_bytes": (int, 4096),
    "major_compaction_period_s": (int, 0),
    "region_split_bytes": (int, 0),
    "max_cell_bytes": (int, 1),
    "background": (bool, 0),
    "skip_corrupt_wal": (bool, 0),
    "compaction_processes": (int, 0),
    "max_open_files": (int, 0),
    "region_servers": (int, 1),
    "balancer_period_s": (float, 0.0),
}


def max_open_files(config: EngineConfig) -> int:
    """The store-file handle budget: ``config.max_open_files``, or for 0 half the soft
    RLIMIT_NOFILE (at least 8; 2**20 when unlimited)."""
    if config.max_open_files:
        return config.max_open_files
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft == resource.RLIM_INFINITY:
        return 1 << 20
    return max(8, soft // 2)


def _check_option(name: str, value: Any) -> None:
    kind, minimum = _RULES[name]
    if kind is bool:
        if not isinstance(value, bool):
            raise InvalidArgument(f"engine option {name} must be True or False, got {value!r}")
        return
    ok_type = (
        isinstance(value, int | float) if kind is float else isinstance(value, int)
    ) and not isinstance(value, bool)
    if not ok_type:
        raise InvalidArgument(
            f"engine option {name} must be {'a number' if kind is float else 'an integer'}, "
            f"got {value!r}"
        )
    if value < minimum:
        raise InvalidArgument(f"engine option {name} must be >= {minimum:g}, got {value!r}")
