"""``hedgerow dump wal|storefile|manifest|catalog PATH``: print a file's records for debugging.

Role: the debugger for every format bug (leveldb's leveldbutil, pebble's tool/).
Reads files only; never changes anything. Corruption is reported with the
file and offset, after everything readable before it has been printed.
Concurrency: single-threaded, read-only.
"""

from __future__ import annotations

import os
from typing import TextIO

from hedgerow.storage.fs import LocalFS
from hedgerow.storage.sstable_dump import dump_sstable, escape_bytes

__all__ = ["dump_catalog", "dump_manifest", "dump_path", "dump_wal"]

_TYPE_NAMES = {
    4: "Put",
    8: "Delete",
    10: "DeleteFamilyVersion",
    12: "DeleteColumn",
    14: "DeleteFamily",
}


def dump_wal(path: str, out: TextIO, *, values: bool = True, skip_corruption: bool = False) -> int:
    """Print every edit of one WAL file; returns the number of edits."""
    from hedgerow.storage.wal_reader import RecoveryReport, read_wal_file

    report = RecoveryReport()
    n = 0
    out.write(f"WAL file {path} ({os.path.getsize(path)} bytes)\n")
    for offset, edit in read_wal_file(
        LocalFS(), path, skip_corruption=skip_corruption, report=report
    ):
        n += 1
        cells = sum(len(c) for _, c in edit.rows)
        out.write(
            f"@{offset} region={edit.region} seq={edit.seq} rows={len(edit.rows)} cells={cells}\n"
        )
        for row, row_cells in edit.rows:
            for fam, qual, ts, typ, value in row_cells:
                v = f" value={escape_bytes(value, 60)}" if values else f" value_len={len(value)}"
                out.write(
                    f"    {escape_bytes(row)} {escape_bytes(fam)}:{escape_bytes(qual)} "
                    f"ts={ts} type={_TYPE_NAMES.get(typ, typ)}{v}\n"
                )
    out.write(f"{n} edits\n")
    for what in ("torn_tails", "skipped"):
        items = getattr(report, what, None)
        if items:
            out.write(f"{what}: {items}\n")
    return n


def dump_manifest(region_dir: str, out: TextIO) -> None:
    """Print the live state of a region's manifest (files per family, counters)."""
    from hedgerow.storage.manifest import replay_manifest

    state, report = replay_manifest(LocalFS(), region_dir)
    out.write(f"region manifest in {region_dir}\n")
    out.write(f"flushed_seq={state.flushed_seq} next_file_number={state.next_file_number}\n")
    out.write(f"region_info={state.region_info!r}\n")
    for fam, files in sorted(state.files.items()):
        out.write(f"family {escape_bytes(fam)}: {len(files)} files\n")
        for number, m in sorted(files.items()):
            out.write(
                f"    {number:012d}.sst size={m.size_bytes} entries={m.entries} "
                f"seq={m.min_seq}..{m.max_seq} ts={m.min_ts}..{m.max_ts}\n"
            )
    if report.torn_tails:
        out.write(f"torn tail dropped: {report.torn_tails}\n")


def dump_catalog(path: str, out: TextIO) -> None:
    """Print the tables, their state and regions from a CATALOG file."""
    from hedgerow.engine.catalog import Catalog

    cat = Catalog.load(LocalFS(), path)
    out.write(f"catalog {path}: {len(cat.tables)} tables, next_region_id={cat.next_region_id}\n")
    for name, t in sorted(cat.tables.items()):
        state = "enabled" if t.enabled else "disabled"
        out.write(f"table {name} ({state})\n")
        for cf in t.descriptor.families.values():
            out.write(f"    family {cf.to_dict()}\n")
        for r in t.regions:
            out.write(
                f"    region {r.name} [{escape_bytes(r.start_key) or '-inf'}, "
                f"{escape_bytes(r.end_key) or '+inf'})\n"
            )


def dump_path(kind: str, path: str, out: TextIO, *, values: bool = True) -> None:
    if kind == "wal":
        dump_wal(path, out, values=values)
    elif kind in ("storefile", "sstable", "hfile"):
        dump_sstable(LocalFS(), path, out, values=values)
    elif kind == "manifest":
        if not os.path.exists(path):
            raise FileNotFoundError(2, "No such region directory or manifest", path)
        dump_manifest(path if os.path.isdir(path) else os.path.dirname(path), out)
    elif kind == "catalog":
        target = os.path.join(path, "CATALOG") if os.path.isdir(path) else path
        if not os.path.exists(target):
            raise FileNotFoundError(2, "No such catalog file", target)
        dump_catalog(target, out)
    else:
        raise ValueError(f"unknown dump kind {kind!r}")
