"""Tests for version_edit.py and manifest.py: replay, rewrite, crash and corruption rules."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgerow._internal import failpoints
from hedgerow.errors import ClosedError, CorruptionError, FormatVersionError, StorageError
from hedgerow.storage import filenames
from hedgerow.storage.fs import LocalFS
from hedgerow.storage.manifest import Manifest, ManifestState, replay_manifest
from hedgerow.storage.version_edit import (
    FileMeta,
    VersionEdit,
    decode_version_edit,
    encode_version_edit,
)
from hedgerow.storage.wal_format import FILE_HEADER_SIZE

FS = LocalFS()


@pytest.fixture(autouse=True)
def _no_failpoints() -> Iterator[None]:
    yield
    failpoints.disarm_all()


def meta(fam: bytes, n: int, seq: int = 1) -> FileMeta:
    return FileMeta(fam, n, 1000 + n, 10 * n, b"a%d" % n, b"z%d" % n, seq, seq + 5, -5, 2**63 - 1)


def region_dir(tmp_path: Path, name: str = "r") -> str:
    return str(tmp_path / name)


def manifest_names(d: str) -> list[str]:
    return sorted(n for n in os.listdir(d) if n.startswith("MANIFEST-"))


# ---------------------------------------------------------------- version edits

_meta = st.builds(
    FileMeta,
    st.binary(min_size=1, max_size=5),
    st.integers(0, 2**63),
    st.integers(0, 2**40),
    st.integers(0, 2**40),
    st.binary(max_size=10),
    st.binary(max_size=10),
    st.integers(0, 2**63 - 1),
    st.integers(0, 2**63 - 1),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-(2**63), 2**63 - 1),
)
_vedit = st.builds(
    VersionEdit,
    st.lists(_meta, max_size=3),
    st.lists(st.tuples(st.binary(min_size=1, max_size=5), st.integers(0, 2**40)), max_size=3),
    st.none() | st.integers(0, 2**63 - 1),
    st.none() | st.integers(0, 2**63),
    st.none()
    | st.dictionaries(
        st.text(max_size=5), st.binary(max_size=5) | st.integers(-(2**63), 2**63 - 1)
    ),
)


@given(_vedit)
def test_version_edit_round_trip(edit: VersionEdit) -> None:
    assert decode_version_edit(encode_version_edit(edit)) == edit


def test_version_edit_unknown_tag_is_a_format_version_error() -> None:
    with pytest.raises(FormatVersionError):
        decode_version_edit(msgpack.packb({3: 1, 99: 2}))


@pytest.mark.parametrize(
    "obj",
    [[1, 2], {1: [[b"f", 1]]}, {2: [[b"f"]]}, {3: -1}, {4: "x"}, {5: [1]}, {1: [["f"] * 10]}],
)
def test_version_edit_malformed(obj: object) -> None:
    with pytest.raises(CorruptionError):
        decode_version_edit(msgpack.packb(obj, use_bin_type=True))
    with pytest.raises(CorruptionError):
        decode_version_edit(b"\xc1")


# ---------------------------------------------------------------- basic manifest


def test_create_apply_reopen(tmp_path: Path) -> None:
    d = region_dir(tmp_path)
    with pytest.raises(StorageError):
        Manifest.open(FS, d, create=False)
    m = Manifest.open(FS, d, create=True)
    assert m.state == ManifestState()
    assert Path(d, "CURRENT").read_bytes() == b"MANIFEST-000001\n"
    n1, n2 = m.allocate_file_number(), m.allocate_file_number()
    assert (n1, n2) == (1, 2)
    m.apply(VersionEdit(added_files=[meta(b"cf", n1), meta(b"cf2", n2)], flushed_seq=10))
    m.apply(VersionEdit(region_info={"start": b"", "end": b"m", "table": "t"}))
    state = m.state
    m.close()
    with pytest.raises(ClosedError):
        m.apply(VersionEdit())
    m2 = Manifest.open(FS, d, create=False)
    assert m2.state == state
    assert m2.state.files == {b"cf": {1: meta(b"cf", 1)}, b"cf2": {2: meta(b"cf2", 2)}}
    assert m2.flushed_seq == 10 and m2.next_file_number == 3
    assert m2.state.region_info == {"start": b"", "end": b"m", "table": "t"}
    assert m2.allocate_file_number() == 3
    m2.close()
    assert replay_manifest(FS, d)[0] == state


def test_state_is_a_copy(tmp_path: Path) -> None:
    m = Manifest.open(FS, region_dir(tmp_path), create=True)
    m.apply(VersionEdit(added_files=[meta(b"cf", m.allocate_file_number())]))
    s = m.state
    s.files[b"cf"].clear()
    assert m.state.files[b"cf"]
    m.close()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (VersionEdit(removed_files=[(b"cf", 1)]), "not live"),
        (VersionEdit(removed_files=[(b"cf", 99)]), "not live"),
        (VersionEdit(added_files=[meta(b"cf", 2)]), "twice"),
        (VersionEdit(added_files=[meta(b"cf", 7), meta(b"cf", 7)]), "twice"),
        (VersionEdit(flushed_seq=4), "back"),
    ],
)
def test_inconsistent_edits_are_refused_and_nothing_is_written(
    tmp_path: Path, edit: VersionEdit, message: str
) -> None:
    d = region_dir(tmp_path)
    m = Manifest.open(FS, d, create=True)
    m.apply(VersionEdit(added_files=[meta(b"cf", m.allocate_file_number())], flushed_seq=5))
    m.apply(VersionEdit(removed_files=[(b"cf", 1)], added_files=[meta(b"cf", 2)]))
    size = os.path.getsize(m.path)
    with pytest.raises(ValueError, match=message):
        m.apply(edit)
    assert os.path.getsize(m.path) == size
    m.apply(VersionEdit(flushed_seq=6))  # still usable
    m.close()


def test_remove_and_readd_in_one_edit_and_removal_of_last_file_drops_family(
    tmp_path: Path,
) -> None:
    m = Manifest.open(FS, region_dir(tmp_path), create=True)
    a, b = m.allocate_file_number(), m.allocate_file_number()
    m.apply(VersionEdit(added_files=[meta(b"cf", a)]))
    m.apply(VersionEdit(removed_files=[(b"cf", a)], added_files=[meta(b"cf", b)]))
    assert sorted(m.state.files[b"cf"]) == [b]
    m.apply(VersionEdit(removed_files=[(b"cf", b)]))
    assert m.state.files == {}
    m.close()


def test_allocated_numbers_are_persisted_and_never_reused(tmp_path: Path) -> None:
    d = region_dir(tmp_path)
    m = Manifest.open(FS, d, create=True)
    used = [m.allocate_file_number() for _ in range(5)]
    # a flush that commits only the first number still persists the counter
    m.apply(VersionEdit(added_files=[meta(b"cf", used[0])]))
    m.close()
    m = Manifest.open(FS, d, create=False)
    assert m.allocate_file_number() > max(used)
    # a caller passing an explicit next_file_number too low is overridden
    n = m.allocate_file_number()
    m.apply(VersionEdit(added_files=[meta(b"cf", n)], next_file_number=1))
    m.close()
    m = Manifest.open(FS, d, create=False)
    assert m.next_file_number == n + 1 == m.peek_next_file_number()
    m.close()


# ---------------------------------------------------------------- random edits, rewrite


def _random_run(d: str, seed: int, max_bytes: int, steps: int = 300) -> ManifestState:
    rng = random.Random(seed)
    m = Manifest.open(FS, d, create=True, max_manifest_bytes=max_bytes)
    model = ManifestState()
    for step in range(steps):
        live = [(fam, n) for fam, files in model.files.items() for n in files]
        removed = rng.sample(live, k=min(len(live), rng.randint(0, 3)))
        added = [
            meta(rng.choice([b"a", b"b", b"c"]), m.allocate_file_number(), step)
            for _ in range(rng.randint(0, 3))
        ]
        edit = VersionEdit(added_files=added, removed_files=removed)
        if rng.random() < 0.5:
            edit.flushed_seq = model.flushed_seq + rng.randint(0, 10)
        if rng.random() < 0.1:
            edit.region_info = {"step": step, "key": bytes([step % 256])}
        m.apply(edit)
        edit.next_file_number = m.next_file_number  # apply() persists the allocator
        model.apply(edit)
        assert m.state == model
    m.close()
    return model


@pytest.mark.parametrize(("seed", "max_bytes"), [(1, 1 << 20), (2, 2048), (3, 300)])
def test_replay_equals_state_after_many_random_edits(
    tmp_path: Path, seed: int, max_bytes: int
) -> None:
    d = region_dir(tmp_path)
    model = _random_run(d, seed, max_bytes)
    m = Manifest.open(FS, d, create=False, max_manifest_bytes=max_bytes)
    assert m.state == model
    assert len(manifest_names(d)) == 1
    assert Path(d, "CURRENT").read_text() == manifest_names(d)[0] + "\n"
    if max_bytes < 4096:
        assert manifest_names(d)[0] != "MANIFEST-000001"  # it rolled over
    m.close()


def test_rewrite_keeps_state_and_switches_current(tmp_path: Path) -> None:
    d = region_dir(tmp_path)
    m = Manifest.open(FS, d, create=True)
    m.apply(VersionEdit(added_files=[meta(b"cf", m.allocate_file_number())], flushed_seq=3))
    state = m.state
    m.rewrite()
    assert manifest_names(d) == ["MANIFEST-000002"] and m.path.endswith("MANIFEST-000002")
    m.apply(VersionEdit(flushed_seq=4))
    m.close()
    m = Manifest.open(FS, d, create=False)
    state.flushed_seq = 4
    assert m.state == state
    m.close()


def test_stray_files_are_removed_on_open(tmp_path: Path) -> None:
    d = region_dir(tmp_path)
    Manifest.open(FS, d, create=True).close()
    for name in ("MANIFEST-000009", "CURRENT.tmp", "MANIFEST-000002.tmp"):
        Path(d, name).write_bytes(b"junk")
    Path(d, "cf").mkdir()
    Path(d, "keep.tmp").write_bytes(b"not the manifest's")
    Manifest.open(FS, d, create=False).close()
    assert sorted(os.listdir(d)) == ["CURRENT", "MANIFEST-000001", "cf", "keep.tmp"]


def test_bad_current(tmp_path: Path) -> None:
    d = region_dir(tmp_path)
    Manifest.open(FS, d, create=True).close()
    Path(d, "CURRENT").write_bytes(b"MANIFEST-000007\n")
    with pytest.raises(CorruptionError, match="does not exist"):
        Manifest.open(FS, d, create=True)
    Path(d, "CURRENT").write_bytes(b"\xffgarbage")
    with pytest.raises(CorruptionError, match="does not name"):
        Manifest.open(FS, d, create=False)


# ---------------------------------------------------------------- crashes and corruption


def _build(d: str) -> tuple[list[ManifestState], list[int]]:
    """Five edits; return the state after each and each record's offset."""
    m = Manifest.open(FS, d, create=True)
    states, offsets = [], []
    for i in range(5):
        offsets.append(os.path.getsize(m.path))
        n = m.allocate_file_number()
        m.apply(VersionEdit(added_files=[meta(b"cf", n)], flushed_seq=10 * i))
        states.append(m.state)
    m.close()
    return states, offsets


def test_truncating_the_last_record_anywhere_gives_the_previous_state(tmp_path: Path) -> None:
    src = region_dir(tmp_path, "src")
    states, offsets = _build(src)
    path = os.path.join(src, "MANIFEST-000001")
    data = Path(path).read_bytes()
    for cut in range(offsets[-1], len(data)):
        d = region_dir(tmp_path, "cut")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(src, d)
        with open(os.path.join(d, "MANIFEST-000001"), "r+b") as f:
            f.truncate(cut)
        m = Manifest.open(FS, d, create=False)
        assert m.state == states[-2], cut
        if cut > offsets[-1]:
            # the torn manifest was replaced by a fresh one before anything is appended
            assert manifest_names(d) == ["MANIFEST-000002"]
            assert m.recovery_report.torn_tails
        # the allocator never hands out a committed number
        n = m.allocate_file_number()
        assert n not in m.state.files[b"cf"]
        m.apply(VersionEdit(added_files=[meta(b"cf", n)]))
        m.close()
        m = Manifest.open(FS, d, create=False)
        assert n in m.state.files[b"cf"] and m.state.flushed_seq == states[-2].flushed_seq
        m.close()


def test_flipped_byte_in_the_middle_raises_naming_file_and_offset(tmp_path: Path) -> None:
    src = region_dir(tmp_path, "src")
    _, offsets = _build(src)
    bad = offsets[2]
    for i in range(bad, offsets[3]):
        d = region_dir(tmp_path, "flip")
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(src, d)
        path = os.path.join(d, "MANIFEST-000001")
        data = bytearray(Path(path).read_bytes())
        data[i] ^= 0x01
        Path(path).write_bytes(bytes(data))
        with pytest.raises(CorruptionError) as info:
            Manifest.open(FS, d, create=False)
        assert (info.value.path, info.value.offset) == (path, bad), i


def _with_bytes(src: str, d: str, data: bytes) -> str:
    """A copy of region dir ``src`` whose MANIFEST-000001 holds ``data``; its path."""
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(src, d)
    path = os.path.join(d, "MANIFEST-000001")
    Path(path).write_bytes(data)
    return path


def test_every_one_bit_flip_in_the_last_record_raises_naming_file_and_offset(
    tmp_path: Path,
) -> None:
    """Issue 11 finding 8: the last record was fsynced (apply returned), so a bad bit in
    it is corruption, not a torn write. Every bit of it: crc, length (a larger length
    runs past the end of the file, but the crc matches the bytes up to it), type, payload.
    The old reader dropped every one of these as a torn tail (state = states[-2])."""
    src = region_dir(tmp_path, "src")
    _, offsets = _build(src)
    data = Path(src, "MANIFEST-000001").read_bytes()
    last = offsets[-1]
    assert len(data) - last > 40  # header + a payload worth flipping
    for i in range(last, len(data)):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[i] ^= 1 << bit
            path = _with_bytes(src, region_dir(tmp_path, "flip"), bytes(flipped))
            with pytest.raises(CorruptionError) as info:
                Manifest.open(FS, os.path.dirname(path), create=False)
            assert (info.value.path, info.value.offset) == (path, last), (i, bit)
            assert path in str(info.value) and f"offset {last}" in str(info.value)
            assert "not a torn write" in str(info.value)


def test_damaged_length_of_the_last_record_is_named_in_the_error(tmp_path: Path) -> None:
    src = region_dir(tmp_path, "src")
    _, offsets = _build(src)
    data = bytearray(Path(src, "MANIFEST-000001").read_bytes())
    data[offsets[-1] + 6] ^= 0x01  # length + 65536: past the end of the file
    path = _with_bytes(src, region_dir(tmp_path, "len"), bytes(data))
    with pytest.raises(CorruptionError, match="length field .* is damaged"):
        replay_manifest(FS, os.path.dirname(path))


@pytest.mark.parametrize("extra", [1, 9, 100, 4096])
def test_zero_filled_tail_after_the_last_record_is_torn(tmp_path: Path, extra: int) -> None:
    """A file system that extended the file before writing the data reads as zeros."""
    src = region_dir(tmp_path, "src")
    states, _ = _build(src)
    data = Path(src, "MANIFEST-000001").read_bytes()
    path = _with_bytes(src, region_dir(tmp_path, "z"), data + bytes(extra))
    m = Manifest.open(FS, os.path.dirname(path), create=False)
    assert m.state == states[-1]
    assert m.recovery_report.torn_tails == [(path, len(data), extra)]
    m.close()


def _build_big_last(d: str) -> tuple[list[ManifestState], list[int]]:
    """As ``_build``, but the last record spans several 512-byte sectors."""
    states, offsets = _build(d)
    m = Manifest.open(FS, d, create=False)
    offsets.append(os.path.getsize(m.path))
    files = [meta(b"cf", m.allocate_file_number()) for _ in range(40)]
    m.apply(VersionEdit(added_files=files))
    states.append(m.state)
    m.close()
    return states, offsets


def test_zero_filled_from_a_sector_boundary_inside_the_last_record_is_torn(
    tmp_path: Path,
) -> None:
    """A power cut can persist the first sectors of an append and not the rest, which
    then read as zeros; zeros that start anywhere else are a bad checksum: corruption."""
    src = region_dir(tmp_path, "src")
    states, offsets = _build_big_last(src)
    data = Path(src, "MANIFEST-000001").read_bytes()
    last = offsets[-1]
    boundaries = [b for b in range(512, len(data), 512) if last + 9 < b]
    assert len(boundaries) >= 2, (last, len(data))
    for b in boundaries:
        path = _with_bytes(src, region_dir(tmp_path, "z"), data[:b] + bytes(len(data) - b))
        m = Manifest.open(FS, os.path.dirname(path), create=False)
        assert m.state == states[-2], b
        assert m.recovery_report.torn_tails == [(path, last, len(data) - last)]
        m.close()
    # zeros from just after the last boundary to the end: no sector is zero, so this is
    # a complete record with a bad checksum
    b = boundaries[-1]
    assert len(data) - b > 2
    rest = bytes([data[b] or 1]) + bytes(len(data) - b - 1)
    path = _with_bytes(src, region_dir(tmp_path, "z"), data[:b] + rest)
    with pytest.raises(CorruptionError) as info:
        Manifest.open(FS, os.path.dirname(path), create=False)
    assert (info.value.path, info.value.offset) == (path, last)


def test_torn_tail_at_several_cut_points_is_dropped(tmp_path: Path) -> None:
    """Cut points inside the header, at its end, inside the payload and one byte short,
    of an append after the last record: all torn, the previous state is kept."""
    src = region_dir(tmp_path, "src")
    states, offsets = _build_big_last(src)
    data = Path(src, "MANIFEST-000001").read_bytes()
    last = offsets[-1]
    for cut in (last + 1, last + 8, last + 9, last + 10, (last + len(data)) // 2, len(data) - 1):
        path = _with_bytes(src, region_dir(tmp_path, "cut"), data[:cut])
        m = Manifest.open(FS, os.path.dirname(path), create=False)
        assert m.state == states[-2], cut
        assert m.recovery_report.torn_tails == [(path, last, cut - last)]
        m.close()


def test_unknown_manifest_version(tmp_path: Path) -> None:
    d = region_dir(tmp_path)
    Manifest.open(FS, d, create=True).close()
    path = os.path.join(d, "MANIFEST-000001")
    data = bytearray(Path(path).read_bytes())
    data[8:12] = (2).to_bytes(4, "little")
    Path(path).write_bytes(bytes(data))
    with pytest.raises(FormatVersionError):
        Manifest.open(FS, d, create=False)
    assert FILE_HEADER_SIZE == 12


def test_failpoint_before_write_leaves_the_manifest_usable(tmp_path: Path) -> None:
    d = region_dir(tmp_path)
    m = Manifest.open(FS, d, create=True)
    failpoints.arm("storage.manifest.before_write")
    with pytest.raises(failpoints.FailpointError):
        m.apply(VersionEdit(flushed_seq=1))
    failpoints.disarm_all()
    m.apply(VersionEdit(flushed_seq=2))
    m.close()
    assert Manifest.open(FS, d, create=False).flushed_seq == 2


def test_a_failed_edit_never_counts_once_the_manifest_goes_on(tmp_path: Path) -> None:
    """The record of a failed edit reached the file (the failpoint fires after the write
    and fsync), yet the edit is not in the state, and the next edit first rewrites the
    manifest without it: a failed flush's files are never named by the manifest."""
    d = region_dir(tmp_path)
    m = Manifest.open(FS, d, create=True)
    failed = meta(b"cf", m.allocate_file_number())
    failpoints.arm("storage.manifest.after_write")
    with pytest.raises(StorageError, match="writing the manifest"):
        m.apply(VersionEdit(added_files=[failed], flushed_seq=1))
    failpoints.disarm_all()
    assert m.needs_rewrite and m.state.files == {} and m.flushed_seq == 0
    m.apply(VersionEdit(flushed_seq=2))
    assert not m.needs_rewrite
    m.close()
    m = Manifest.open(FS, d, create=False)
    assert m.state.files == {} and m.flushed_seq == 2
    assert manifest_names(d) == ["MANIFEST-000002"]
    m.close()


def test_a_failed_edit_may_come_back_if_the_process_dies_before_the_rewrite(
    tmp_path: Path,
) -> None:
    """Why Region keeps a failed flush's files until the next edit succeeds."""
    d = region_dir(tmp_path)
    m = Manifest.open(FS, d, create=True)
    failed = meta(b"cf", m.allocate_file_number())
    failpoints.arm("storage.manifest.after_write")
    with pytest.raises(StorageError):
        m.apply(VersionEdit(added_files=[failed], flushed_seq=1))
    failpoints.disarm_all()
    m.close()  # a crash: no further edit
    m = Manifest.open(FS, d, create=False)
    assert list(m.state.files[b"cf"]) == [failed.file_number]
    m.close()


def test_a_failed_current_switch_is_redone_by_the_next_edit(tmp_path: Path) -> None:
    d = region_dir(tmp_path)
    m = Manifest.open(FS, d, create=True)
    m.apply(VersionEdit(added_files=[meta(b"cf", m.allocate_file_number())], flushed_seq=7))
    failpoints.arm("storage.manifest.before_set_current")
    with pytest.raises(StorageError, match="switching the manifest"):
        m.rewrite()
    failpoints.disarm_all()
    m.apply(VersionEdit(flushed_seq=8))  # rewrites above both files first
    state = m.state
    m.close()
    m = Manifest.open(FS, d, create=False)
    assert m.state == state and manifest_names(d) == ["MANIFEST-000003"]
    m.close()


def test_every_applied_edit_survives_reopen_with_filenames(tmp_path: Path) -> None:
    d = region_dir(tmp_path)
    m = Manifest.open(FS, d, create=True)
    assert m.path == filenames.manifest_file_name(d, 1)
    m.close()
