"""Tests for region/query_matcher.py, driven with hand-built, key-sorted entry lists.

Each test builds internal keys with ``encode_key``, sorts them (the order a merged
store stream has) and checks which cells ``resolve_family`` returns, which cells
``VersionCounter`` accepts and what ``retain_for_major_compaction`` keeps.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from hedgerow.model.cell import MAX_TIMESTAMP, Cell, KeyType
from hedgerow.model.keys import encode_key, split_key
from hedgerow.model.read_spec import ReadSpec
from hedgerow.model.schema import ColumnFamilyDescriptor
from hedgerow.region.query_matcher import (
    VersionCounter,
    resolve_family,
    retain_for_major_compaction,
)

PUT = int(KeyType.PUT)
DEL = int(KeyType.DELETE)
DFV = int(KeyType.DELETE_FAMILY_VERSION)
DC = int(KeyType.DELETE_COLUMN)
DF = int(KeyType.DELETE_FAMILY)

R = b"r1"
NOW = 1_000_000
ALL = 2**63  # read point that sees every write
Entry = tuple[bytes, bytes]


def put(q: bytes, ts: int, seq: int = 1, row: bytes = R, value: bytes | None = None) -> Entry:
    return encode_key(row, q, ts, PUT, seq), (b"v%d" % ts if value is None else value)


def mark(typ: int, q: bytes, ts: int, seq: int = 1, row: bytes = R) -> Entry:
    return encode_key(row, q, ts, typ, seq), b""


def cf(**kw: Any) -> ColumnFamilyDescriptor:
    kw.setdefault("max_versions", 10)
    return ColumnFamilyDescriptor(b"cf", **kw)


def resolve(
    entries: Iterable[Entry],
    family: ColumnFamilyDescriptor | None = None,
    read_point: int = ALL,
    now_ms: int = NOW,
    count_versions: bool = True,
    **spec_kw: Any,
) -> dict[bytes, list[tuple[bytes, int]]]:
    """Run resolve_family; return row -> [(qualifier, ts)] (types checked separately)."""
    spec_kw.setdefault("max_versions", 10)
    out: dict[bytes, list[tuple[bytes, int]]] = {}
    for row, cells in resolve_family(
        sorted(entries),
        b"cf",
        family or cf(),
        ReadSpec(**spec_kw),
        read_point,
        now_ms,
        count_versions=count_versions,
    ):
        assert row not in out, "a row was yielded twice"
        assert cells, "an empty row was yielded"
        for c in cells:
            assert c.row == row and c.family == b"cf"
            if not spec_kw.get("raw"):
                assert c.type == PUT
        out[row] = [(c.qualifier, c.timestamp) for c in cells]
    return out


def cells_of(entries: Iterable[Entry], **kw: Any) -> list[Cell]:
    spec_kw = {k: v for k, v in kw.items() if k not in ("family", "read_point")}
    spec_kw.setdefault("max_versions", 10)
    return [
        c
        for _, cells in resolve_family(
            sorted(entries),
            b"cf",
            kw.get("family") or cf(),
            ReadSpec(**spec_kw),
            kw.get("read_point", ALL),
            NOW,
            count_versions=True,
        )
        for c in cells
    ]


# ------------------------------------------------------------------ plain reads


def test_no_deletes_returns_newest_first_per_column() -> None:
    es = [put(b"b", 5), put(b"a", 10), put(b"a", 30), put(b"", 7), put(b"a", 20)]
    assert resolve(es) == {R: [(b"", 7), (b"a", 30), (b"a", 20), (b"a", 10), (b"b", 5)]}
    assert [c.value for c in cells_of(es)] == [b"v7", b"v30", b"v20", b"v10", b"v5"]


def test_rows_are_separate() -> None:
    es = [put(b"a", 10, row=b"r1"), mark(DF, b"", 20, row=b"r1"), put(b"a", 10, row=b"r2")]
    es += [put(b"a", 5, row=b"r0")]
    assert resolve(es) == {b"r0": [(b"a", 5)], b"r2": [(b"a", 10)]}


def test_same_key_from_two_sources_is_returned_once() -> None:
    es = [put(b"a", 10, seq=3), put(b"a", 10, seq=3), put(b"a", 5, seq=2), put(b"a", 5, seq=2)]
    assert resolve(es, count_versions=False) == {R: [(b"a", 10), (b"a", 5)]}


# ------------------------------------------------------------------ delete rules


def test_delete_family_masks_at_or_below_across_qualifiers() -> None:
    es = [
        mark(DF, b"", 20),
        put(b"", 5),
        put(b"a", 30),
        put(b"a", 20),
        put(b"a", 10),
        put(b"b", 25),
        put(b"b", 15),
        put(b"zz", 20),
    ]
    assert resolve(es) == {R: [(b"a", 30), (b"b", 25)]}


def test_delete_family_after_put_in_empty_qualifier_column() -> None:
    # b"" column: put@40, put@30, then the DeleteFamily@20 (ts desc puts it after them)
    es = [
        put(b"", 40),
        put(b"", 30),
        mark(DF, b"", 20),
        put(b"", 10),
        put(b"a", 25),
        put(b"a", 20),
        put(b"a", 10),
        put(b"b", 15),
    ]
    assert resolve(es) == {R: [(b"", 40), (b"", 30), (b"a", 25)]}
    # with one version the b"" column is done after put@40; the marker must still count
    assert resolve(es, family=cf(max_versions=1)) == {R: [(b"", 40), (b"a", 25)]}
    assert resolve(es, max_versions=1) == {R: [(b"", 40), (b"a", 25)]}


def test_delete_family_version_masks_exact_timestamp() -> None:
    es = [
        mark(DFV, b"", 20),
        put(b"", 20),
        put(b"a", 30),
        put(b"a", 21),
        put(b"a", 20),
        put(b"a", 19),
        put(b"b", 20),
        put(b"b", 10),
    ]
    assert resolve(es) == {R: [(b"a", 30), (b"a", 21), (b"a", 19), (b"b", 10)]}


def test_delete_column_masks_at_or_below_in_its_column_only() -> None:
    es = [mark(DC, b"a", 20), put(b"a", 30), put(b"a", 20), put(b"a", 10), put(b"b", 10)]
    es += [put(b"", 5)]
    assert resolve(es) == {R: [(b"", 5), (b"a", 30), (b"b", 10)]}


def test_delete_version_masks_exact_timestamp_in_its_column() -> None:
    es = [mark(DEL, b"a", 20), put(b"a", 30), put(b"a", 20), put(b"a", 10), put(b"b", 20)]
    assert resolve(es) == {R: [(b"a", 30), (b"a", 10), (b"b", 20)]}
    # the masked version does not use up a version slot
    assert resolve(es, max_versions=2) == {R: [(b"a", 30), (b"a", 10), (b"b", 20)]}
    assert resolve(es, max_versions=1) == {R: [(b"a", 30), (b"b", 20)]}


def test_later_written_put_with_older_timestamp_is_masked() -> None:
    # markers written first (low seq), puts after them (higher seq) with ts <= marker ts
    es = [
        mark(DF, b"", 20, seq=1),
        mark(DC, b"a", 40, seq=2),
        mark(DEL, b"b", 50, seq=3),
        put(b"a", 35, seq=10),
        put(b"a", 45, seq=11),
        put(b"b", 50, seq=12),
        put(b"b", 49, seq=13),
        put(b"c", 15, seq=14),
        put(b"c", 25, seq=15),
    ]
    assert resolve(es) == {R: [(b"a", 45), (b"b", 49), (b"c", 25)]}


def test_delete_version_masks_a_put_at_the_same_timestamp_written_later() -> None:
    es = [mark(DEL, b"a", 20, seq=1), put(b"a", 20, seq=9), put(b"a", 10, seq=8)]
    assert resolve(es) == {R: [(b"a", 10)]}


# ------------------------------------------------------------------ equal timestamps, MVCC


def test_equal_timestamp_puts_higher_seq_wins() -> None:
    es = [put(b"a", 10, seq=3, value=b"old"), put(b"a", 10, seq=7, value=b"new"), put(b"a", 5)]
    cells = cells_of(es)
    assert [(c.timestamp, c.value, c.seq) for c in cells] == [(10, b"new", 7), (5, b"v5", 1)]
    # one version: the later write only; the hidden one does not take the slot of ts 5
    assert [c.value for c in cells_of(es, max_versions=2)] == [b"new", b"v5"]
    assert [c.value for c in cells_of(es, max_versions=1)] == [b"new"]
    # without version counting every candidate is returned, later write first
    assert resolve(es, count_versions=False) == {R: [(b"a", 10), (b"a", 10), (b"a", 5)]}


def test_read_point_hides_higher_seqs() -> None:
    es = [
        put(b"a", 10, seq=3, value=b"old"),
        put(b"a", 10, seq=7, value=b"new"),
        put(b"a", 40, seq=9),
        put(b"b", 1, seq=2),
        mark(DF, b"", 50, seq=8),  # not yet visible at read point 5
    ]
    assert [(c.qualifier, c.value) for c in cells_of(es, read_point=5)] == [
        (b"a", b"old"),
        (b"b", b"v1"),
    ]
    assert resolve(es, read_point=7) == {R: [(b"a", 10), (b"b", 1)]}
    assert [c.value for c in cells_of(es, read_point=7)] == [b"new", b"v1"]
    assert resolve(es, read_point=8) == {}
    assert resolve(es, read_point=1) == {}


# ------------------------------------------------------------------ time ranges, versions


def test_time_range_is_half_open() -> None:
    es = [put(b"a", t) for t in (10, 20, 30, 40)]
    assert resolve(es, min_ts=20, max_ts=40) == {R: [(b"a", 30), (b"a", 20)]}
    assert resolve(es, min_ts=20, max_ts=40, max_versions=1) == {R: [(b"a", 30)]}
    assert resolve(es, min_ts=10, max_ts=11) == {R: [(b"a", 10)]}
    assert resolve(es, min_ts=41) == {}
    assert resolve(es, max_ts=10) == {}


def test_delete_marker_after_time_range_still_applies() -> None:
    es = [mark(DC, b"a", 35), put(b"a", 30), put(b"a", 20), put(b"b", 20)]
    assert resolve(es, min_ts=20, max_ts=31) == {R: [(b"b", 20)]}


def test_max_versions_capped_by_family() -> None:
    es = [put(b"a", t) for t in (10, 20, 30, 40)]
    assert resolve(es, family=cf(max_versions=2), max_versions=5) == {R: [(b"a", 40), (b"a", 30)]}
    assert resolve(es, family=cf(max_versions=5), max_versions=2) == {R: [(b"a", 40), (b"a", 30)]}
    assert len(resolve(es, family=cf(max_versions=5), max_versions=5)[R]) == 4
    assert resolve(es, family=cf(max_versions=1), max_versions=1) == {R: [(b"a", 40)]}


# ------------------------------------------------------------------ TTL


def test_ttl_without_min_versions_hides_expired() -> None:
    fam = cf(time_to_live=100)  # oldest unexpired: NOW - 100_000 = 900_000
    es = [put(b"a", 950_000), put(b"a", 900_000), put(b"a", 899_999), put(b"b", 850_000)]
    assert resolve(es, family=fam) == {R: [(b"a", 950_000), (b"a", 900_000)]}
    assert resolve([put(b"a", 800_000)], family=fam) == {}


def test_ttl_with_min_versions_keeps_newest_expired() -> None:
    expired = [put(b"a", 850_000), put(b"a", 800_000), put(b"a", 700_000)]
    assert resolve(expired, family=cf(time_to_live=100, min_versions=2)) == {
        R: [(b"a", 850_000), (b"a", 800_000)]
    }
    mixed = [put(b"a", 950_000), put(b"a", 850_000), put(b"a", 800_000)]
    assert resolve(mixed, family=cf(time_to_live=100, min_versions=1)) == {R: [(b"a", 950_000)]}
    assert resolve(mixed, family=cf(time_to_live=100, min_versions=2)) == {
        R: [(b"a", 950_000), (b"a", 850_000)]
    }
    # an unexpired cell is still limited by max_versions
    assert resolve(mixed, family=cf(time_to_live=100, min_versions=1, max_versions=1)) == {
        R: [(b"a", 950_000)]
    }


# ------------------------------------------------------------------ KEEP_DELETED_CELLS


def test_keep_deleted_cells_time_range_before_the_delete() -> None:
    es = [mark(DC, b"a", 20), put(b"a", 10), put(b"a", 5), mark(DF, b"", 30), put(b"b", 25)]
    keep = cf(keep_deleted_cells=True)
    assert resolve(es, family=keep) == {}
    assert resolve(es, family=keep, max_ts=15) == {R: [(b"a", 10), (b"a", 5)]}
    assert resolve(es, family=keep, max_ts=26) == {R: [(b"b", 25)]}
    # without KEEP_DELETED_CELLS the markers apply whatever the range
    assert resolve(es, max_ts=15) == {}
    assert resolve(es, max_ts=26) == {}


# ------------------------------------------------------------------ column selection


def test_column_selection() -> None:
    es = [put(b"", 1), put(b"a", 10), put(b"b", 10), put(b"c", 10)]
    assert resolve(es, columns={b"cf": frozenset({b"a", b"c"})}) == {R: [(b"a", 10), (b"c", 10)]}
    assert resolve(es, columns={b"cf": None}) == resolve(es)
    assert resolve(es, columns={b"cf": frozenset({b"zz"})}) == {}


def test_column_selection_still_honours_family_markers() -> None:
    es = [
        put(b"", 40),  # unselected column before the marker
        mark(DF, b"", 20),
        mark(DFV, b"", 25),
        put(b"a", 30),
        put(b"a", 25),
        put(b"a", 20),
        put(b"a", 10),
        put(b"b", 15),
    ]
    assert resolve(es, columns={b"cf": frozenset({b"a"})}) == {R: [(b"a", 30)]}
    assert resolve(es, columns={b"cf": frozenset({b"b"})}) == {}


# ------------------------------------------------------------------ raw


def test_raw_returns_markers_and_masked_puts() -> None:
    es = [
        mark(DF, b"", 20, seq=5),
        put(b"a", 10),
        mark(DC, b"b", 30, seq=6),
        put(b"b", 25),
        mark(DEL, b"c", 7, seq=7),
        put(b"c", 7),
    ]
    got = [(c.qualifier, c.timestamp, c.type) for c in cells_of(es, raw=True)]
    assert got == [
        (b"", 20, DF),
        (b"a", 10, PUT),
        (b"b", 30, DC),
        (b"b", 25, PUT),
        (b"c", 7, DEL),
        (b"c", 7, PUT),
    ]
    # time range and column selection apply to markers too
    got = [(c.qualifier, c.type) for c in cells_of(es, raw=True, min_ts=8, max_ts=26)]
    assert got == [(b"", DF), (b"a", PUT), (b"b", PUT)]
    got = [
        (c.qualifier, c.type) for c in cells_of(es, raw=True, columns={b"cf": frozenset({b"b"})})
    ]
    assert got == [(b"b", DC), (b"b", PUT)]


# ------------------------------------------------------------------ VersionCounter


def _cell(q: bytes, ts: int, typ: int = PUT, family: bytes = b"cf") -> Cell:
    return Cell(R, family, q, ts, typ, b"", 1)


def test_version_counter_limits_per_column() -> None:
    vc = VersionCounter({b"cf": (2, 0, -1), b"f2": (1, 0, -1)})
    assert vc.accept(_cell(b"a", 30)) is True
    assert vc.column_done() is False
    assert vc.accept(_cell(b"a", 30)) is False  # equal ts: the later write already counted
    assert vc.accept(_cell(b"a", 20)) is True
    assert vc.accept(_cell(b"a", 10)) is False
    assert vc.column_done() is True
    assert vc.accept(_cell(b"a", 5)) is False
    assert vc.accept(_cell(b"b", 5)) is True  # new column resets
    assert vc.column_done() is False
    assert vc.accept(_cell(b"b", 5, family=b"f2")) is True  # same qualifier, other family
    assert vc.accept(_cell(b"b", 4, family=b"f2")) is False


def test_version_counter_markers_do_not_count() -> None:
    vc = VersionCounter({b"cf": (1, 0, -1)})
    assert vc.accept(_cell(b"a", 30, DC)) is True
    assert vc.accept(_cell(b"a", 30, DEL)) is True
    assert vc.accept(_cell(b"a", 20)) is True
    assert vc.accept(_cell(b"a", 10)) is False


def test_version_counter_ttl_and_min_versions() -> None:
    vc = VersionCounter({b"cf": (5, 1, 100)})  # cells with ts < 100 are expired
    assert vc.accept(_cell(b"a", 90)) is True  # newest, kept by MIN_VERSIONS
    assert vc.accept(_cell(b"a", 80)) is False
    assert vc.column_done() is True
    vc = VersionCounter({b"cf": (5, 1, 100)})
    assert vc.accept(_cell(b"b", 150)) is True
    assert vc.accept(_cell(b"b", 120)) is True
    assert vc.accept(_cell(b"b", 90)) is False  # expired and past MIN_VERSIONS


# ------------------------------------------------------------------ major compaction


def retain(entries: Iterable[Entry], family: ColumnFamilyDescriptor) -> list[tuple[Any, ...]]:
    return [split_key(k) for k, _ in retain_for_major_compaction(sorted(entries), family, NOW)]


def test_retain_drops_markers_and_masked_puts() -> None:
    es = [
        mark(DF, b"", 20),
        mark(DFV, b"", 25),
        put(b"", 30),
        mark(DC, b"a", 28),
        put(b"a", 29),
        put(b"a", 28),
        put(b"a", 25),
        mark(DEL, b"b", 27),
        put(b"b", 27),
        put(b"b", 26),
        put(b"b", 25),
        put(b"b", 20),
    ]
    assert retain(es, cf()) == [
        (R, b"", 30, PUT, 1),
        (R, b"a", 29, PUT, 1),
        (R, b"b", 26, PUT, 1),
    ]


def test_retain_versions_and_equal_timestamps() -> None:
    es = [put(b"a", 30, seq=2), put(b"a", 30, seq=5), put(b"a", 20), put(b"a", 10), put(b"b", 1)]
    assert retain(es, cf(max_versions=2)) == [
        (R, b"a", 30, PUT, 5),
        (R, b"a", 20, PUT, 1),
        (R, b"b", 1, PUT, 1),
    ]


def test_retain_keep_deleted_cells() -> None:
    es = [
        mark(DF, b"", 20),
        mark(DC, b"a", 35),
        put(b"a", 40),
        put(b"a", 30, seq=2),
        put(b"a", 30, seq=1),  # hidden by the later write at the same ts: always dropped
        put(b"a", 15),
        put(b"a", 10),
    ]
    assert retain(es, cf(max_versions=3, keep_deleted_cells=True)) == [
        (R, b"", 20, DF, 1),
        (R, b"a", 40, PUT, 1),
        (R, b"a", 35, DC, 1),
        (R, b"a", 30, PUT, 2),
        (R, b"a", 15, PUT, 1),
    ]
    assert retain(es, cf(max_versions=3)) == [(R, b"a", 40, PUT, 1)]


def test_retain_ttl() -> None:
    es = [mark(DF, b"", 850_000), put(b"a", 950_000), put(b"a", 840_000), put(b"b", 800_000)]
    # MIN_VERSIONS 0: expired cells and expired markers go
    assert retain(es, cf(time_to_live=100, keep_deleted_cells=True)) == [(R, b"a", 950_000, PUT, 1)]
    # MIN_VERSIONS 1: the newest version of each column survives even when expired (if not deleted)
    assert retain(
        [put(b"a", 950_000), put(b"a", 840_000), put(b"b", 800_000), put(b"b", 700_000)],
        cf(time_to_live=100, min_versions=1),
    ) == [
        (R, b"a", 950_000, PUT, 1),
        (R, b"b", 800_000, PUT, 1),
    ]


def _random_entries(rng: random.Random) -> list[Entry]:
    es: dict[bytes, bytes] = {}
    for seq in range(1, rng.randint(1, 40) + 1):
        row = rng.choice([b"r1", b"r2"])
        ts = rng.choice([1, 2, 3, 4, 5, 6, 950_000, 850_000])
        typ = rng.choice([PUT] * 6 + [DEL, DC, DF, DFV])
        q = b"" if typ in (DF, DFV) else rng.choice([b"", b"a", b"b"])
        if typ == PUT:
            k, v = put(q, ts, seq, row)
        else:
            k, v = mark(typ, q, ts, seq, row)
        es[k] = v
    return list(es.items())


def test_major_compaction_does_not_change_what_reads_see() -> None:
    rng = random.Random(1234)
    families = [
        cf(max_versions=1),
        cf(max_versions=3),
        cf(max_versions=2, time_to_live=100),
        cf(max_versions=3, min_versions=1, time_to_live=100),
    ]
    for _ in range(400):
        es = _random_entries(rng)
        for fam in families:
            kept = list(retain_for_major_compaction(sorted(es), fam, NOW))
            before = cells_of(es, family=fam, max_versions=fam.max_versions)
            after = cells_of(kept, family=fam, max_versions=fam.max_versions)
            assert after == before, (fam, sorted(split_key(k) for k, _ in es))


def test_counting_later_with_version_counter_equals_counting_in_resolve() -> None:
    rng = random.Random(99)
    families = [cf(max_versions=2), cf(max_versions=3, min_versions=1, time_to_live=100)]
    for _ in range(300):
        es = sorted(_random_entries(rng))
        for fam in families:
            for max_v in (1, 2, 5):
                spec = ReadSpec(max_versions=max_v)
                direct = [
                    c
                    for _, cs in resolve_family(es, b"cf", fam, spec, ALL, NOW, count_versions=True)
                    for c in cs
                ]
                oldest = -1 if fam.ttl_ms is None else NOW - fam.ttl_ms
                later: list[Cell] = []
                for _, cs in resolve_family(es, b"cf", fam, spec, ALL, NOW, count_versions=False):
                    vc = VersionCounter(
                        {b"cf": (min(max_v, fam.max_versions), fam.min_versions, oldest)}
                    )
                    later.extend(c for c in cs if vc.accept(c))
                assert later == direct


def test_max_timestamp_cell_is_readable() -> None:
    assert resolve([put(b"a", MAX_TIMESTAMP - 1)]) == {R: [(b"a", MAX_TIMESTAMP - 1)]}
