"""``hedgerow dump wal|storefile|manifest|catalog|meta PATH``: print a file's records for debugging.

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


def read_meta(data_dir: str) -> dict[str, list[tuple[str, bytes, bytes]]]:
    """The region map from the meta region's store files (offline; the engine flushes
    meta after every change, so the files hold it): table -> [(name, start, end)]."""
    import heapq

    import msgpack

    from hedgerow.engine.meta import META_DESCRIPTOR, META_REGION
    from hedgerow.model.read_spec import ReadSpec
    from hedgerow.region.query_matcher import resolve_family
    from hedgerow.storage import filenames
    from hedgerow.storage.manifest import replay_manifest
    from hedgerow.storage.sstable_reader import SSTableReader

    fs = LocalFS()
    region_dir = os.path.join(data_dir, "tables", "hbase%3Ameta", META_REGION)
    if not os.path.isdir(region_dir):
        return {}
    state, _report = replay_manifest(fs, region_dir)
    readers = [
        SSTableReader.open(fs, filenames.store_file_name(region_dir, fam, n), file_id=n, cache=None)
        for fam, files in state.files.items()
        for n in files
    ]
    try:
        entries = heapq.merge(*(r.iter_from(b"", None) for r in readers))
        cf = META_DESCRIPTOR.families[b"info"]
        out: dict[str, list[tuple[str, bytes, bytes]]] = {}
        spec = ReadSpec(columns={b"info": frozenset([b"regioninfo"])})
        for _row, cells in resolve_family(
            entries, b"info", cf, spec, 2**63, 0, count_versions=True
        ):
            d = msgpack.unpackb(cells[0].value, raw=False)
            out.setdefault(d["table"], []).append((d["name"], d["start_key"], d["end_key"]))
        for regions in out.values():
            regions.sort(key=lambda r: r[1])
        return out
    finally:
        for r in readers:
            r.close()


def dump_catalog(path: str, out: TextIO) -> None:
    """Print the tables and their state (CATALOG) and their regions (hbase:meta)."""
    from hedgerow.engine.catalog import Catalog

    cat = Catalog.load(LocalFS(), path)
    regions = read_meta(os.path.dirname(path) or ".")
    out.write(f"catalog {path}: {len(cat.tables)} tables, next_region_id={cat.next_region_id}\n")
    for name, t in sorted(cat.tables.items()):
        state = "enabled" if t.enabled else "disabled"
        out.write(f"table {name} ({state})\n")
        for cf in t.descriptor.families.values():
            out.write(f"    family {cf.to_dict()}\n")
        for rname, start, end in regions.get(name, []):
            out.write(
                f"    region {rname} [{escape_bytes(start) or '-inf'}, "
                f"{escape_bytes(end) or '+inf'})\n"
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
    elif kind == "meta":
        regions = read_meta(path)
        out.write(f"hbase:meta of {path}: {sum(map(len, regions.values()))} regions\n")
        for table, rs in sorted(regions.items()):
            for rname, start, end in rs:
                out.write(
                    f"{table},{escape_bytes(start)},{rname} "
                    f"[{escape_bytes(start) or '-inf'}, {escape_bytes(end) or '+inf'})\n"
                )
    elif kind == "catalog":
        target = os.path.join(path, "CATALOG") if os.path.isdir(path) else path
        if not os.path.exists(target):
            raise FileNotFoundError(2, "No such catalog file", target)
        dump_catalog(target, out)
    else:
        raise ValueError(f"unknown dump kind {kind!r}")
