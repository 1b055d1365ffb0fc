"""Randomized model-based test with disk faults and power cuts (issue 11, acceptance item 2).

The Runner of model_runner.py (random writes, read-modify-writes, reads, flushes,
compactions, splits, merges and reopens, checked against the reference model) runs
here on ``FaultFS(MemFS())``, every write at FSYNC_WAL. Faults, each drawn with a
small probability from a seeded rng: ENOSPC and EIO on writes, short writes, fsyncs
that fail (some after writing the data back anyway), failing file creations, renames
and truncations, on the WAL, the region manifests and CURRENT files and the store
files, plus rare read errors. About every ``CUT_EVERY`` operations the machine loses
power (``MemFS.power_cut``, half the time keeping torn unsynced tails) or the process
dies (``MemFS.crash``): the engine object is abandoned, never closed, and the
directory is opened again (with faults on, up to three times, then with faults off).
Flushes happen every few writes (4 KiB flush size) and compactions follow them.

The contract, and what a breach is reported as:
  1. an operation that returns is acknowledged: the model applies it, and every read
     from then on, and after any crash, must agree (WRONG ANSWER; ACKNOWLEDGED WRITE
     LOST);
  2. an operation that raises has no visible effect: the model is not updated and a
     full comparison (faults paused) right after it must agree (FAILED WRITE VISIBLE);
  3. what it raises is a HedgerowError (anything else is collected and fails the test
     at the end: ERROR CLASS; an AssertionError from the engine fails at once);
  4. after a power cut or crash and reopen the whole state equals the model's
     (ACKNOWLEDGED WRITE LOST, FAILED WRITE RESURRECTED, CANNOT REOPEN);
  5. once faults stop, writes and flushes work again within a few attempts, the clock
     advancing 1, 2, 4, ... 128 s between them for any backoff (STUCK); probed every
     ``PROBE_EVERY`` operations. Reads keep working (READS FAIL).
A major compaction that fails is finished with faults paused before the model applies
it (its stores are compacted independently, so half of one is legitimately visible;
compacting a store at t0 and again at t1 >= t0 keeps what one compaction at t1 keeps,
so the clock may advance between the tries).
Splits and merges run with faults paused (procedure crash safety is
tests/crash/test_procedure_crash.py's subject).

A failure prints the seed, the faults injected into the failing operation, the last
operations and the command that replays it, e.g.
``HEDGEROW_FAULT_SEED=3 pytest tests/engine/test_model_faults.py``. Knobs (environment):
HEDGEROW_FAULT_SEEDS (number of seeds, default 6), HEDGEROW_FAULT_OPS (operations per
seed, default 4000), HEDGEROW_FAULT_RATE (multiplies every fault probability, default 1),
HEDGEROW_FAULT_TARGETS (comma list of wal, manifest, sst, read; default all),
HEDGEROW_FAULT_DIRSYNC=1 (name changes durable at once, to look at data durability
alone), HEDGEROW_FAULT_FLUSH_BYTES (default 4096), HEDGEROW_FAULT_PROBE=0 (no liveness
probes).
"""

from __future__ import annotations

import collections
import errno
import functools
import os
import random
import traceback
from collections.abc import Callable
from typing import Any

import pytest

import hedgerow
from hedgerow.client.connection import Connection
from hedgerow.engine import Engine, EngineConfig
from hedgerow.errors import HedgerowError, StorageError, WriteOutcomeUnknown
from hedgerow.storage.faultfs import FaultFS, FaultKind
from hedgerow.storage.memfs import MemFS

from .model_runner import Runner
from .reference_model import PUT

_env = os.environ
_TARGETS_ALL = ("wal", "manifest", "sst", "read")
_seed_env = _env.get("HEDGEROW_FAULT_SEED")
SEEDS = (
    [int(_seed_env)]
    if _seed_env
    else list(range(1, 1 + int(_env.get("HEDGEROW_FAULT_SEEDS", "6"))))
)
OPS = int(_env.get("HEDGEROW_FAULT_OPS", "4000"))
RATE = float(_env.get("HEDGEROW_FAULT_RATE", "1"))
TARGETS = tuple(
    t for t in _env.get("HEDGEROW_FAULT_TARGETS", ",".join(_TARGETS_ALL)).split(",") if t
)
if set(TARGETS) - set(_TARGETS_ALL):
    raise ValueError(f"HEDGEROW_FAULT_TARGETS: unknown {sorted(set(TARGETS) - set(_TARGETS_ALL))}")
DIRSYNC = _env.get("HEDGEROW_FAULT_DIRSYNC", "0") == "1"
FLUSH_BYTES = int(_env.get("HEDGEROW_FAULT_FLUSH_BYTES", "4096"))
PROBE_EVERY = 400 if _env.get("HEDGEROW_FAULT_PROBE", "1") != "0" else 0
CUT_EVERY = 300  # operations between power cuts or crashes, on average
CHECK_EVERY = 200  # a full comparison at least this often
PROBE_ATTEMPTS = 8  # tries after faults stop; the clock advances 1, 2, 4, ... s between them
OPEN_ATTEMPTS = 3
ROOT = "/db"

# what a breach is reported as (ContractViolation.kind)
LOST = "ACKNOWLEDGED WRITE LOST"
VISIBLE = "FAILED WRITE VISIBLE"
RESURRECTED = "FAILED WRITE RESURRECTED"
WRONG = "WRONG ANSWER"
REOPEN = "CANNOT REOPEN"
STUCK = "STUCK"
READS = "READS FAIL"
ERROR_CLASS = "ERROR CLASS"
ASSERTION = "ENGINE ASSERTION"


class ContractViolation(AssertionError):
    """The engine broke the contract; ``kind`` says which part."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


def add_faults(fs: FaultFS, targets: tuple[str, ...], rate: float) -> None:
    """The default fault mix (probabilities per matching call, times ``rate``)."""

    def rule(ops: str | list[str], path: str, p: float, name: str, **kw: Any) -> None:
        fs.add_rule(ops, path=path, probability=min(1.0, p * rate), name=name, **kw)

    short, after = FaultKind.SHORT_WRITE, FaultKind.ERROR_AFTER
    if "wal" in targets:
        wal = f"{ROOT}/WALs/*"
        rule("write", wal, 0.004, "wal write ENOSPC", errno=errno.ENOSPC)
        rule("write", wal, 0.003, "wal write EIO")
        rule("write", wal, 0.003, "wal short write", kind=short, errno=errno.ENOSPC)
        rule("sync", wal, 0.004, "wal fsync EIO")
        rule("sync", wal, 0.002, "wal fsync EIO after write-back", kind=after)
        rule(["open_write", "sync_dir"], wal, 0.03, "wal file create", errno=errno.ENOSPC)
        rule("truncate", wal, 0.05, "wal truncate")
    if "manifest" in targets:
        man = "*/MANIFEST-*"
        rule("write", man, 0.02, "manifest write ENOSPC", errno=errno.ENOSPC)
        rule("write", man, 0.01, "manifest short write", kind=short, errno=errno.ENOSPC)
        rule("sync", man, 0.02, "manifest fsync EIO")
        rule("sync", man, 0.01, "manifest fsync EIO after write-back", kind=after)
        rule(["open_write", "truncate"], man, 0.05, "manifest create or truncate")
        cur = "*/CURRENT*"
        rule(["open_write", "write", "sync"], cur, 0.03, "CURRENT.tmp", errno=errno.ENOSPC)
        rule("rename", cur, 0.03, "CURRENT rename")
        rule("rename", cur, 0.02, "CURRENT rename, dir fsync fails after", kind=after)
    if "sst" in targets:
        sst = "*.sst"
        rule("open_write", sst, 0.02, "store file create", errno=errno.ENOSPC)
        rule("write", sst, 0.03, "store file write ENOSPC", errno=errno.ENOSPC)
        rule("write", sst, 0.01, "store file short write", kind=short, errno=errno.ENOSPC)
        rule("sync", sst, 0.03, "store file fsync EIO")
    if "read" in targets:
        rule("pread", "*.sst", 0.001, "store file read EIO")
        rule("read_all", f"{ROOT}/*", 0.01, "read_all EIO")


class FsyncTable:
    """A table whose writes are all at FSYNC_WAL (so every acknowledged write must survive
    a power cut); reads pass through."""

    _WRITES = frozenset(
        {
            "put",
            "delete",
            "delete_cell",
            "delete_family_version",
            "mutate_row",
            "increment",
            "append",
            "check_and_mutate",
        }
    )

    def __init__(self, table: Any, runner: FaultRunner | None = None) -> None:
        self._table = table
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._table, name)
        if name not in self._WRITES:
            return attr
        write = functools.partial(attr, durability=hedgerow.Durability.FSYNC_WAL)
        runner = self._runner
        if runner is None:
            return write

        def resolving(*args: Any, **kwargs: Any) -> Any:
            try:
                return write(*args, **kwargs)
            except WriteOutcomeUnknown as e:
                return runner.resolve_unknown(name, args, kwargs, e)

        return resolving


Cell = tuple[bytes, bytes, bytes, int, bytes]  # row, family, qualifier, ts, value


def _cells(rows: list[tuple[bytes, list[tuple[bytes, bytes, int, bytes]]]]) -> set[Cell]:
    return {(r, f, q, ts, v) for r, cells in rows for f, q, ts, v in cells}


class FaultRunner(Runner):
    """The model-based Runner on a faulty filesystem, checking the contract above."""

    def __init__(
        self,
        seed: int,
        *,
        targets: tuple[str, ...] = TARGETS,
        rate: float = RATE,
        dirsync: bool = DIRSYNC,
        cut_every: int = CUT_EVERY,
        torn: bool = True,
        probe_every: int = PROBE_EVERY,
        **extra: Any,
    ) -> None:
        self.mem = MemFS(dirsync=dirsync)
        self.ffs = FaultFS(self.mem, random.Random(seed * 1_000_003 + 1))
        self.ffs.enabled = False  # the table is created without faults
        self.cut_rng = random.Random(seed * 1_000_003 + 2)
        self.cut_every = cut_every
        self.torn = torn
        self.probe_every = probe_every
        self.targets = targets
        self.rate = rate
        self.stats: collections.Counter[str] = collections.Counter()
        self.failures: collections.Counter[str] = collections.Counter()
        self.soft: list[str] = []  # ERROR CLASS breaches (first few, with tracebacks)
        self.soft_count = 0
        self.touched: set[bytes] = set()  # rows the current operation picked
        self.verify_next = False  # compare the whole table after the current operation
        self.pruned: set[Cell] = set()  # acknowledged puts major compactions removed
        extra.setdefault("flush_size_bytes", FLUSH_BYTES)
        super().__init__(seed, ROOT, **extra)
        knobs = [f"HEDGEROW_FAULT_SEED={seed}"]
        if targets != _TARGETS_ALL:
            knobs.append(f"HEDGEROW_FAULT_TARGETS={','.join(targets)}")
        if rate != 1:
            knobs.append(f"HEDGEROW_FAULT_RATE={rate}")
        if dirsync:
            knobs.append("HEDGEROW_FAULT_DIRSYNC=1")
        if self.opts["flush_size_bytes"] != 4096:
            knobs.append(f"HEDGEROW_FAULT_FLUSH_BYTES={self.opts['flush_size_bytes']}")
        if not probe_every:
            knobs.append("HEDGEROW_FAULT_PROBE=0")
        self.replay_hint = f"{' '.join(knobs)} pytest tests/engine/test_model_faults.py"
        add_faults(self.ffs, targets, rate)
        self.ffs.enabled = True

    # ---- hooks ------------------------------------------------------------------------------
    def connect(self) -> Any:
        engine = Engine(
            self.path, EngineConfig.from_options(self.opts), clock=self.clock, fs=self.ffs
        )
        return Connection(engine)

    def open_table(self) -> Any:
        return FsyncTable(self.conn.table("t"), self)

    def resolve_unknown(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], e: WriteOutcomeUnknown
    ) -> Any:
        """A double fault (the WAL could not cut a failed batch off again) leaves the write's
        outcome unknown, like a timeout, and the log refuses writes until a restart. So:
        restart (a process crash, no power cut), then learn the outcome the way a client
        would, by reading. Not applied: the write raises a plain StorageError now (and the
        op leaves the model alone). Applied: it returns what the call returns when it works
        (the op then updates the model), and the next full comparison checks both cases
        against the whole table, atomicity included."""
        self.stats["unknown outcomes"] += 1
        self.log.append(f"{name}: {type(e).__name__}; restart to learn the outcome")
        self.conn = self.t = None
        self.mem.crash()
        with self.ffs.paused():
            self.conn = self.connect()
            self.t = self.open_table()
            before = self.model.scan(None, None, None, self.now(), versions=10)
            if self.full_state() == before:
                self.log.append("  outcome: not applied")
                raise StorageError("outcome resolved by reading: not applied") from e
            self.log.append("  outcome: applied")
            self.verify_next = True
            row, cols = args[0], args[1]
            if name in ("increment", "append"):
                data = self.t.row(row, columns=list(cols))
                if name == "increment":
                    return {c: int.from_bytes(data[c], "big", signed=True) for c in cols}
                return {c: data[c] for c in cols}
            if name == "check_and_mutate":
                return True
            return None

    def check(self, what: str, got: Any, want: Any) -> None:
        if got != want:
            raise ContractViolation(
                WRONG, self.describe(f"{what} differs\nengine: {got!r}\nmodel:  {want!r}")
            )

    # ---- reporting --------------------------------------------------------------------------
    def describe(
        self,
        context: str,
        *,
        failed: BaseException | None = None,
        mark: int | None = None,
        missing: set[Cell] | None = None,
        extra: set[Cell] | None = None,
    ) -> str:
        lines = [f"seed {self.seed} step {self.step}: {context}"]
        if failed is not None:
            lines.append(f"  the operation raised {type(failed).__name__}: {failed}")
        if mark is not None:
            n = self.ffs.injected - mark
            injected = list(self.ffs.history)[-n:] if n else []
            lines.append(f"  faults injected during it: {n}")
            lines += [f"    {i.rule}: {i.op} {i.path}" for i in injected[-8:]]
            if injected and all("/WALs/" not in i.path for i in injected) and extra:
                lines.append(
                    "  (no fault hit the WAL: the write was logged and applied, then its "
                    "flush or compaction failed and the error reached the writer)"
                )
        for label, cells in (
            (
                "acknowledged cells missing, or shown although an acknowledged delete or "
                "newer version masks them",
                missing,
            ),
            ("cells no acknowledged write made", extra),
        ):
            if cells:
                lines.append(f"  {label} ({len(cells)}):")
                lines += [f"    {c!r}" for c in sorted(cells)[:6]]
        lines.append("  last operations:")
        lines += [f"    {x if len(x) < 240 else x[:240] + ' ...'}" for x in self.log[-15:]]
        lines.append(f"  {self.summary()}")
        if self.soft_count:
            lines.append(
                f"  ERROR CLASS breaches so far: {self.soft_count}; first:\n{self.soft[0]}"
            )
        lines.append(f"replay: {self.replay_hint}")
        return "\n".join(lines)

    def summary(self) -> str:
        by_op = ", ".join(f"{k} {v}" for k, v in sorted(self.ffs.injected_by_op.items()))
        failed = ", ".join(f"{k} {v}" for k, v in self.failures.most_common())
        stats = ", ".join(f"{k} {v}" for k, v in sorted(self.stats.items()))
        return (
            f"seed {self.seed}: {self.step + 1} operations; {self.ffs.injected} faults injected "
            f"({by_op}); failed operations by error: {failed or 'none'}; {stats}"
        )

    # ---- the contract -----------------------------------------------------------------------
    def note_failure(self, e: BaseException, mark: int) -> None:
        self.failures[type(e).__name__] += 1
        if isinstance(e, AssertionError):
            raise ContractViolation(
                ASSERTION, self.describe("the engine failed an assertion", failed=e, mark=mark)
            ) from e
        if not isinstance(e, HedgerowError):
            self.soft_count += 1
            if len(self.soft) < 3:
                tb = "".join(traceback.format_exception(e)[-6:])
                self.soft.append(
                    f"    seed {self.seed} step {self.step} ({self.log[-1] if self.log else ''}) "
                    f"raised {type(e).__name__}, not a HedgerowError:\n{tb}"
                )

    def row(self) -> bytes:
        r = super().row()
        self.touched.add(r)
        return r

    def attempt(self, op: Callable[[], None]) -> None:
        mark = self.ffs.injected
        self.touched = set()
        try:
            op()
        except ContractViolation:
            raise
        except Exception as e:
            self.note_failure(e, mark)
            what = self.log[-1] if self.log else op.__name__
            self.verify(f"after the failed operation {what!r}", failed=e, mark=mark)
        else:
            if op == self.op_maintenance or self.verify_next:
                self.verify(f"after {self.log[-1]!r}")
        self.verify_next = False

    def full_state(self) -> list[tuple[bytes, list[tuple[bytes, bytes, int, bytes]]]]:
        return [
            (r, [(c.family, c.qualifier, c.timestamp, c.value) for c in cells])
            for r, cells in self.t.scan(max_versions=10)
        ]

    def verify(
        self,
        context: str,
        *,
        failed: BaseException | None = None,
        mark: int | None = None,
        after_crash: bool = False,
    ) -> None:
        """Compare the whole table with the model, faults paused."""
        self.stats["full comparisons"] += 1
        with self.ffs.paused():
            try:
                got = self.full_state()
            except Exception as e:
                raise ContractViolation(
                    READS,
                    self.describe(f"{context}: a full scan fails with faults off", failed=e),
                ) from e
        want = self.model.scan(None, None, None, self.now(), versions=10)
        if got == want:
            return
        missing, extra = _cells(want) - _cells(got), _cells(got) - _cells(want)
        # a cell some acknowledged write made, shown although the model masks it: an
        # acknowledged delete (or newer version) is missing; any other extra cell comes
        # from a write that failed
        masked = {c for c in extra if self._was_written(c)}
        unknown = extra - masked
        if not missing and not extra:
            kind = WRONG
        elif after_crash:
            kind = LOST if missing or masked else RESURRECTED
        elif failed is not None and {c[0] for c in missing | extra} <= self.touched:
            kind = VISIBLE  # only the failed operation's rows differ
        else:
            kind = VISIBLE if unknown else LOST
        raise ContractViolation(
            kind,
            self.describe(
                context, failed=failed, mark=mark, missing=missing | masked, extra=unknown
            ),
        )

    def _model_puts(self) -> set[Cell]:
        return {
            (row, fam, c.qualifier, c.ts, c.value)
            for row, fams in self.model.data.items()
            for fam, cells in fams.items()
            for c in cells
            if c.type == PUT
        }

    def _was_written(self, cell: Cell) -> bool:
        return cell in self.pruned or cell in self._model_puts()

    def retry(self, call: Callable[[], None], what: str, *, verify: bool = True) -> None:
        """``call`` must succeed within PROBE_ATTEMPTS tries (faults are paused by the caller);
        the clock advances between tries, doubling from 1 s, for any backoff. ``verify``:
        a failed try must have had no visible effect."""
        last: BaseException | None = None
        for i in range(PROBE_ATTEMPTS):
            mark = self.ffs.injected
            try:
                call()
                return
            except ContractViolation:
                raise
            except Exception as e:
                last = e
                self.note_failure(e, mark)
                if verify:
                    self.verify(f"after a failed {what} with faults off", failed=e)
                self.clock.advance_ms(1000 << i)
        raise ContractViolation(
            STUCK,
            self.describe(
                f"{what} still fails after {PROBE_ATTEMPTS} tries with faults off", failed=last
            ),
        )

    # ---- crashes ----------------------------------------------------------------------------
    def cut(self) -> None:
        power = self.cut_rng.random() < 0.7
        torn = power and self.torn and self.cut_rng.random() < 0.5
        what = "power cut (torn tails)" if torn else "power cut" if power else "process crash"
        self.log.append(what)
        self.conn = self.t = None  # abandoned, never closed
        if power:
            self.stats["power cuts"] += 1
            self.mem.power_cut(self.cut_rng if torn else None)
        else:
            self.stats["crashes"] += 1
            self.mem.crash()
        self.open_again(what)

    def open_again(self, why: str) -> None:
        for _ in range(OPEN_ATTEMPTS):
            mark = self.ffs.injected
            try:
                self.conn = self.connect()
                break
            except Exception as e:
                self.stats["failed opens"] += 1
                self.note_failure(e, mark)
                self.log.append(f"open failed: {type(e).__name__}: {e}")
                self.mem.crash()  # the process that failed to open exits
        else:
            with self.ffs.paused():
                try:
                    self.conn = self.connect()
                except Exception as e:
                    raise ContractViolation(
                        REOPEN,
                        self.describe(f"after a {why}, opening fails with faults off", failed=e),
                    ) from e
        self.t = self.open_table()
        self.verify(f"after a {why} and reopen", after_crash=True)

    # ---- maintenance ------------------------------------------------------------------------
    def reopen(self) -> None:
        mark = self.ffs.injected
        try:
            self.conn.close()
            why = "clean close"
        except Exception as e:
            self.note_failure(e, mark)
            self.log.append(f"close failed: {type(e).__name__}: {e}")
            self.mem.crash()  # the process gives up
            why = "failed close"
        self.open_again(why)

    def maint_major_compaction(self) -> None:
        self.log.append("major compaction")
        mark = self.ffs.injected
        try:
            self.conn.compact_table("t", major=True)
        except Exception as e:
            self.note_failure(e, mark)
            self.log.append("major compaction again, faults paused")
            with self.ffs.paused():
                self.retry(
                    lambda: self.conn.compact_table("t", major=True),
                    "major compaction",
                    verify=False,  # half done is fine until it is finished
                )
        self.pruned |= self._model_puts()  # the model forgets what compaction drops
        self.model.major_compact(self.now())

    def maint_split(self) -> None:
        with self.ffs.paused():
            super().maint_split()

    def maint_merge(self) -> None:
        with self.ffs.paused():
            super().maint_merge()

    def probe(self) -> None:
        self.stats["probes"] += 1
        self.log.append("probe: faults off; a write and a flush must work again")
        with self.ffs.paused():
            self.retry(self.op_put, "put")
            self.retry(lambda: self.conn.flush_table("t"), "flush")
        self.verify("after the liveness probe")

    # ---- the run ----------------------------------------------------------------------------
    def run(self, n: int) -> None:
        ops = self.operations()
        funcs = [f for f, _ in ops]
        weights = [w for _, w in ops]
        for self.step in range(n):
            if self.rng.random() < 0.3:
                self.clock.advance_ms(self.rng.randrange(0, 3000))
            if self.cut_every and self.cut_rng.random() < 1 / self.cut_every:
                self.cut()
                continue
            if self.probe_every and self.step % self.probe_every == self.probe_every - 1:
                self.probe()
            self.attempt(self.rng.choices(funcs, weights)[0])
            if self.step % CHECK_EVERY == 0:
                self.verify("periodic comparison")
        self.ffs.enabled = False
        self.verify("at the end, faults off")
        self.log.append("close and reopen (faults off)")
        self.reopen()
        self.log.append("power cut (faults off)")
        self.conn = self.t = None
        self.mem.power_cut()
        self.open_again("final power cut")
        self.conn.close()
        if self.targets == _TARGETS_ALL and self.rate >= 1 and self.ffs.injected < n // 40:
            raise AssertionError(
                f"only {self.ffs.injected} faults were injected in {n} operations: do the "
                "rules' path globs still match the directory layout (docs/design/files.md)?"
            )
        if self.soft_count:
            raise ContractViolation(
                ERROR_CLASS,
                f"{self.soft_count} failed operations raised something other than a "
                f"HedgerowError; the first:\n" + "\n".join(self.soft) + f"\n{self.summary()}"
                f"\nreplay: {self.replay_hint}",
            )


# ---- the test -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_engine_keeps_its_contract_under_disk_faults_and_power_cuts(seed: int) -> None:
    r = FaultRunner(seed)
    r.run(OPS)
    print(r.summary())


# ---- the harness can fail -------------------------------------------------------------------
def test_harness_reports_acknowledged_writes_lost_to_a_lying_fsync() -> None:
    """Self-check: WAL fsyncs that claim success without making anything durable really
    lose acknowledged writes at the next power cut, and the harness must say so.
    (``dirsync``: store files' names are durable, so only the lie can lose data.)"""
    r = FaultRunner(11, targets=(), dirsync=True, cut_every=60, torn=False, probe_every=0)
    r.ffs.add_rule(
        "sync", path=f"{ROOT}/WALs/rs0/*", kind=FaultKind.LIE, skip=1, name="lying fsync"
    )
    with pytest.raises(ContractViolation) as e:
        r.run(600)
    assert e.value.kind == LOST, e.value


class _FailAfterPut:
    """A table whose put is applied and then reported as failed (a synthetic engine bug)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def put(self, *args: Any, **kwargs: Any) -> None:
        self._table.put(*args, **kwargs)
        raise StorageError("synthetic: the put was applied, then reported as failed")


class _NoPut(_FailAfterPut):
    """A table whose put always fails without effect (a synthetic stuck engine)."""

    def put(self, *args: Any, **kwargs: Any) -> None:
        raise StorageError("synthetic: puts always fail")


def test_harness_reports_a_failed_write_that_is_visible() -> None:
    class R(FaultRunner):
        def open_table(self) -> Any:
            return _FailAfterPut(super().open_table())

    r = R(12, targets=(), cut_every=0, probe_every=0)
    with pytest.raises(ContractViolation) as e:
        r.run(300)
    assert e.value.kind == VISIBLE, e.value
    assert "StorageError: synthetic" in str(e.value)


def test_harness_reports_writes_that_never_work_again() -> None:
    class R(FaultRunner):
        def open_table(self) -> Any:
            return _NoPut(super().open_table())

    r = R(13, targets=(), cut_every=0, probe_every=50)
    with pytest.raises(ContractViolation) as e:
        r.run(300)
    assert e.value.kind == STUCK, e.value
