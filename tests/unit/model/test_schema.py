"""Tests for model/schema.py: family defaults, option aliases, validation, table names."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from hedgerow.errors import FamilyNotFound, InvalidArgument
from hedgerow.model.schema import (
    LIMITS,
    ColumnFamilyDescriptor,
    TableDescriptor,
    validate_table_name,
)

CF = ColumnFamilyDescriptor


# ------------------------------------------------------------------ defaults


def test_defaults_are_hbase_defaults() -> None:
    cf = CF(b"cf")
    assert cf.max_versions == 1
    assert cf.min_versions == 0
    assert cf.time_to_live is None and cf.ttl_ms is None
    assert cf.keep_deleted_cells is False
    assert cf.block_size == 65536
    assert cf.compression == "none"
    assert cf.bloom_filter_type == "ROW"
    assert cf.in_memory is False
    assert cf.block_cache_enabled is True
    assert cf.bloom_filter_vector_size == 0 and cf.bloom_filter_nb_hashes == 0
    assert CF.from_options(b"cf") == cf
    assert CF.from_options("cf", {}) == cf


def test_limits() -> None:
    assert LIMITS["max_row_key_bytes"] == 32767
    assert LIMITS["max_cell_bytes"] == 10 * 1024 * 1024
    assert LIMITS["max_qualifier_bytes"] == 64 * 1024
    assert LIMITS["max_family_bytes"] == 200


def test_descriptor_is_immutable() -> None:
    cf = CF(b"cf")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cf.max_versions = 3  # type: ignore[misc]


# ------------------------------------------------------------------ option aliases


@pytest.mark.parametrize(
    ("option", "value", "field", "expected"),
    [
        # happybase names
        ("max_versions", 3, "max_versions", 3),
        ("time_to_live", 86400, "time_to_live", 86400),
        ("bloom_filter_type", "ROWCOL", "bloom_filter_type", "ROWCOL"),
        ("bloom_filter_vector_size", 1000, "bloom_filter_vector_size", 1000),
        ("bloom_filter_nb_hashes", 5, "bloom_filter_nb_hashes", 5),
        ("block_cache_enabled", False, "block_cache_enabled", False),
        ("in_memory", True, "in_memory", True),
        ("compression", "LZ4", "compression", "lz4"),
        # HBase shell names, as the shell writes them (values often strings)
        ("VERSIONS", "5", "max_versions", 5),
        ("MIN_VERSIONS", 1, "min_versions", 1),
        ("TTL", "3600", "time_to_live", 3600),
        ("KEEP_DELETED_CELLS", "TRUE", "keep_deleted_cells", True),
        ("BLOCKSIZE", "8192", "block_size", 8192),
        ("COMPRESSION", "ZSTD", "compression", "zstd"),
        ("BLOOMFILTER", "rowcol", "bloom_filter_type", "ROWCOL"),
        ("BLOOMFILTER", None, "bloom_filter_type", "NONE"),
        ("IN_MEMORY", "true", "in_memory", True),
        ("BLOCKCACHE", "false", "block_cache_enabled", False),
        ("COMPRESSION", None, "compression", "none"),
        # case-insensitive
        ("Versions", 2, "max_versions", 2),
        ("ttl", 10, "time_to_live", 10),
        ("BlockSize", 1024, "block_size", 1024),
        ("Keep_Deleted_Cells", 1, "keep_deleted_cells", True),
        ("IN_memory", 0, "in_memory", False),
    ],
)
def test_option_aliases(option: str, value: Any, field: str, expected: Any) -> None:
    cf = CF.from_options("cf", {option: value})
    assert getattr(cf, field) == expected
    assert cf.name == b"cf"
    # everything else stays at its default
    base = CF(b"cf").to_dict()
    got = cf.to_dict()
    assert {k for k in got if got[k] != base[k]} <= {field}


def test_ttl_ms() -> None:
    cf = CF.from_options(b"cf", {"max_versions": 3, "TTL": 86400})
    assert (cf.max_versions, cf.time_to_live, cf.ttl_ms) == (3, 86400, 86_400_000)


@pytest.mark.parametrize(
    "forever", [None, -1, "-1", 2**31 - 1, str(2**31 - 1), "FOREVER", "forever"]
)
@pytest.mark.parametrize("option", ["TTL", "time_to_live", "ttl"])
def test_ttl_forever_spellings(option: str, forever: Any) -> None:
    cf = CF.from_options("cf", {option: forever})
    assert cf.time_to_live is None
    assert cf.ttl_ms is None


def test_ttl_just_below_forever_is_a_real_ttl() -> None:
    assert CF.from_options("cf", {"TTL": 2**31 - 2}).time_to_live == 2**31 - 2


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"colour": "red"}, "colour"),
        ({"VERSIONS": 0}, "VERSIONS"),
        ({"max_versions": -1}, "max_versions"),
        ({"max_versions": True}, "max_versions"),
        ({"max_versions": "abc"}, "max_versions"),
        ({"max_versions": 1.5}, "max_versions"),
        ({"MIN_VERSIONS": -1}, "MIN_VERSIONS"),
        ({"TTL": -5}, "TTL"),
        ({"TTL": "soon"}, "TTL"),
        ({"TTL": 0}, "time_to_live"),
        ({"in_memory": "yes"}, "in_memory"),
        ({"BLOCKCACHE": 2}, "BLOCKCACHE"),
        ({"KEEP_DELETED_CELLS": "TTL"}, "KEEP_DELETED_CELLS"),
        ({"compression": "snappy"}, "snappy"),
        ({"compression": 3}, "compression"),
        ({"BLOOMFILTER": "bogus"}, "BOGUS"),
        ({"bloom_filter_type": 1}, "bloom_filter_type"),
        ({"BLOCKSIZE": 100}, "block_size"),
        ({"BLOCKSIZE": 32 * 1024 * 1024}, "block_size"),
        ({"BLOCKSIZE": 0}, "BLOCKSIZE"),
        ({"bloom_filter_nb_hashes": -1}, "bloom_filter_nb_hashes"),
        ({"VERSIONS": 2, "MIN_VERSIONS": 3}, "min_versions"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidArgument) as ei:
        CF.from_options("fam1", options)
    assert named in str(ei.value)


@pytest.mark.parametrize(
    "options",
    [
        {"colour": "red"},
        {"compression": "snappy"},
        {"BLOOMFILTER": "x"},
        {"BLOCKSIZE": 100},
        {"TTL": 0},
        {"VERSIONS": 2, "MIN_VERSIONS": 3},
    ],
)
def test_family_level_errors_name_the_family(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument, match="fam1"):
        CF.from_options("fam1", options)


@pytest.mark.parametrize(
    "options", [{"VERSIONS": 0}, {"TTL": -5}, {"in_memory": "yes"}, {"compression": 3}]
)
def test_option_value_errors_also_name_the_family(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument, match="fam1"):
        CF.from_options("fam1", options)


def test_option_name_must_be_a_string() -> None:
    with pytest.raises(InvalidArgument, match="strings"):
        CF.from_options("cf", {1: 2})  # type: ignore[dict-item]


def test_min_versions_equal_to_max_versions_is_fine() -> None:
    cf = CF.from_options("cf", {"VERSIONS": 3, "MIN_VERSIONS": 3})
    assert (cf.max_versions, cf.min_versions) == (3, 3)


def test_block_size_bounds() -> None:
    assert CF(b"cf", block_size=512).block_size == 512
    assert CF(b"cf", block_size=16 * 1024 * 1024).block_size == 16 * 1024 * 1024
    with pytest.raises(InvalidArgument):
        CF(b"cf", block_size=511)
    with pytest.raises(InvalidArgument):
        CF(b"cf", block_size=16 * 1024 * 1024 + 1)


@pytest.mark.parametrize(
    "name", [b"", b"a:b", b".hidden", b"a b", b"caf\xc3\xa9", b"tab\t", b"x" * 201, "cf"]
)
def test_bad_family_names(name: Any) -> None:
    with pytest.raises(InvalidArgument):
        CF(name)


def test_family_name_limits() -> None:
    assert CF(b"x" * 200).name == b"x" * 200
    assert CF(b"a.b-c_~!").name == b"a.b-c_~!"
    assert CF.from_options("cf").name == b"cf"  # str names are encoded
    with pytest.raises(InvalidArgument, match="200"):
        CF(b"x" * 201)


def test_direct_construction_validates() -> None:
    with pytest.raises(InvalidArgument, match="max_versions.*b'cf'"):
        CF(b"cf", max_versions=0)
    with pytest.raises(InvalidArgument, match="time_to_live.*b'cf'"):
        CF(b"cf", time_to_live=-1)
    with pytest.raises(InvalidArgument, match="min_versions"):
        CF(b"cf", min_versions=-1)


# ------------------------------------------------------------------ to_dict / from_dict


def test_family_dict_round_trip() -> None:
    cf = CF.from_options(
        "f2",
        {
            "VERSIONS": 5,
            "MIN_VERSIONS": 2,
            "TTL": 600,
            "KEEP_DELETED_CELLS": True,
            "BLOCKSIZE": 4096,
            "COMPRESSION": "lz4",
            "BLOOMFILTER": "ROWCOL",
            "IN_MEMORY": True,
            "BLOCKCACHE": False,
        },
    )
    d = cf.to_dict()
    assert d == {
        "name": "f2",
        "max_versions": 5,
        "min_versions": 2,
        "time_to_live": 600,
        "keep_deleted_cells": True,
        "block_size": 4096,
        "compression": "lz4",
        "bloom_filter_type": "ROWCOL",
        "in_memory": True,
        "block_cache_enabled": False,
        "bloom_filter_vector_size": 0,
        "bloom_filter_nb_hashes": 0,
    }
    assert CF.from_dict(d) == cf
    assert CF.from_dict(CF(b"cf").to_dict()) == CF(b"cf")


def test_from_dict_ignores_unknown_keys() -> None:
    d = CF(b"cf", max_versions=2).to_dict()
    d["a_future_option"] = 1
    assert CF.from_dict(d) == CF(b"cf", max_versions=2)


# ------------------------------------------------------------------ tables


def test_table_descriptor() -> None:
    a, b = CF(b"a"), CF(b"b", max_versions=3)
    t = TableDescriptor("ns:t1", {b"a": a, b"b": b})
    assert t.family(b"b") is b
    with pytest.raises(FamilyNotFound) as ei:
        t.family(b"zz")
    assert "'zz'" in str(ei.value) and "ns:t1" in str(ei.value)
    d = t.to_dict()
    assert d["name"] == "ns:t1"
    assert [f["name"] for f in d["families"]] == ["a", "b"]
    assert TableDescriptor.from_dict(d) == t


def test_table_needs_a_family() -> None:
    with pytest.raises(InvalidArgument, match="t1"):
        TableDescriptor("t1", {})


def test_table_descriptor_validates_name() -> None:
    with pytest.raises(InvalidArgument, match="illegal table name"):
        TableDescriptor("bad name", {b"cf": CF(b"cf")})


@pytest.mark.parametrize(
    "name", ["t", "T1", "ns:t", "default:t", "a.b-c_d", "_x", "0", "x" * 255, "n_s.1:t-2.x"]
)
def test_valid_table_names(name: str) -> None:
    assert validate_table_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        ":t",
        "ns:",
        "a:b:c",
        "a b",
        "t/x",
        "-t",
        ".t",
        "ns:.t",
        "t\n",
        "t\u00e9",
        "t*",
        "x" * 256,
        b"t",
        None,
    ],
)
def test_invalid_table_names(name: Any) -> None:
    with pytest.raises(InvalidArgument) as ei:
        validate_table_name(name)
    assert "illegal table name" in str(ei.value)
    assert repr(name)[:20] in str(ei.value)
