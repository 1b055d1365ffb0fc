"""Tests for storage/filenames.py: builders and the strict parser agree."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgerow.storage import filenames
from hedgerow.storage.filenames import FileKind, parse_file_name


@pytest.mark.parametrize(
    ("path", "kind", "number"),
    [
        (filenames.wal_file_name("/d/wal", 0), FileKind.WAL, 0),
        (filenames.wal_file_name("/d/wal", 123), FileKind.WAL, 123),
        (filenames.wal_file_name("/d/wal", 10**13), FileKind.WAL, 10**13),
        (filenames.manifest_file_name("/r", 1), FileKind.MANIFEST, 1),
        (filenames.manifest_file_name("/r", 1234567), FileKind.MANIFEST, 1234567),
        (filenames.store_file_name("/r", b"cf", 9), FileKind.STORE_FILE, 9),
        (filenames.current_file_name("/r"), FileKind.CURRENT, 0),
        (filenames.lock_file_name("/d"), FileKind.LOCK, 0),
        (filenames.catalog_file_name("/d"), FileKind.CATALOG, 0),
        (filenames.temp_file_name("/r/CURRENT"), FileKind.TEMP, 0),
    ],
)
def test_builders_round_trip_through_parser(path: str, kind: FileKind, number: int) -> None:
    assert parse_file_name(os.path.basename(path)) == (kind, number)


def test_exact_shapes() -> None:
    assert filenames.wal_file_name("/d/wal", 7) == "/d/wal/000000000007.log"
    assert filenames.wal_file_name("/d/wal/", 7) == "/d/wal/000000000007.log"
    assert filenames.manifest_file_name("r", 2) == "r/MANIFEST-000002"
    assert filenames.store_file_name("r", b"cf", 1) == "r/cf/000000000001.sst"
    assert filenames.wal_dir("/data") == "/data/wal"
    assert FileKind.WAL == "wal"  # a str enum, comparable to plain strings


@pytest.mark.parametrize(
    "name",
    [
        "7.log",
        "0000000000007.log",  # 13 digits with a leading zero: not the canonical spelling
        "00000000000a.log",
        "000000000007.LOG",
        "MANIFEST-1",
        "MANIFEST-",
        "MANIFEST-000001x",
        "current",
        "LOCK2",
        "000000000007.sst.bak",
        ".tmp",
        "",
    ],
)
def test_foreign_names_are_not_ours(name: str) -> None:
    assert parse_file_name(name) is None


def test_negative_numbers_rejected() -> None:
    with pytest.raises(ValueError):
        filenames.wal_file_name("/d", -1)


def test_family_dir_escapes_path_characters() -> None:
    assert filenames.family_dir_name(b"cf") == "cf"
    assert filenames.family_dir_name(b"a/b") == "a%2Fb"
    assert filenames.family_dir_name(b"a\\b%") == "a%5Cb%25"
    assert filenames.parse_family_dir_name("a%2Fb") == b"a/b"
    assert filenames.store_file_name("/r", b"x/y", 1) == "/r/x%2Fy/000000000001.sst"


@pytest.mark.parametrize("family", [b"", b".hidden", b"a:b", b"sp ace", b"\xff", b"tab\t"])
def test_illegal_family_names(family: bytes) -> None:
    with pytest.raises(ValueError):
        filenames.family_dir_name(family)


@pytest.mark.parametrize("name", ["a%2fb", "a%", "%41", "a:b", ".x", "wal.tmp%", "é"])
def test_non_family_dir_names(name: str) -> None:
    assert filenames.parse_family_dir_name(name) is None


_FAMILY = (
    st.lists(
        st.integers(min_value=0x21, max_value=0x7E).filter(lambda c: c != ord(":")),
        min_size=1,
        max_size=20,
    )
    .map(bytes)
    .filter(lambda b: not b.startswith(b"."))
)


@given(_FAMILY)
def test_family_dir_round_trip(family: bytes) -> None:
    name = filenames.family_dir_name(family)
    assert "/" not in name and "\\" not in name
    assert filenames.parse_family_dir_name(name) == family


@given(st.integers(min_value=0, max_value=2**63))
def test_numbers_round_trip(n: int) -> None:
    assert parse_file_name(os.path.basename(filenames.wal_file_name("w", n))) == (FileKind.WAL, n)
    assert parse_file_name(os.path.basename(filenames.manifest_file_name("r", n))) == (
        FileKind.MANIFEST,
        n,
    )
    sst = os.path.basename(filenames.store_file_name("r", b"cf", n))
    assert parse_file_name(sst) == (FileKind.STORE_FILE, n)
