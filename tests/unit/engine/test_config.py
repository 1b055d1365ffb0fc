"""Tests for engine/config.py: EngineConfig.from_options defaults, unknown names, bad values."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import hedgerow
from hedgerow.engine import DEFAULTS, EngineConfig
from hedgerow.errors import InvalidArgument


def test_defaults_equal_the_defaults_mapping() -> None:
    cfg = EngineConfig.from_options({})
    assert cfg == EngineConfig()
    names = {f.name for f in dataclasses.fields(EngineConfig)}
    assert names == set(DEFAULTS)
    for name, value in DEFAULTS.items():
        assert getattr(cfg, name) == value, name


def test_default_values_are_hbase_like() -> None:
    # pinned: changing a default changes every embedded user's behaviour
    assert DEFAULTS["flush_size_bytes"] == 128 * 1024 * 1024
    assert DEFAULTS["blocking_multiplier"] == 4
    assert DEFAULTS["compaction_min_files"] == 3
    assert DEFAULTS["compaction_max_files"] == 10
    assert DEFAULTS["compaction_ratio"] == 1.2
    assert DEFAULTS["max_cell_bytes"] == 10 * 1024 * 1024
    assert DEFAULTS["major_compaction_period_s"] == 7 * 24 * 3600
    assert DEFAULTS["background"] is True
    assert DEFAULTS["skip_corrupt_wal"] is False


def test_overrides() -> None:
    cfg = EngineConfig.from_options(
        {"flush_size_bytes": 2048, "background": False, "compaction_min_files": 2}
    )
    assert cfg.flush_size_bytes == 2048
    assert cfg.background is False
    assert cfg.compaction_min_files == 2
    assert cfg.compaction_max_files == DEFAULTS["compaction_max_files"]


def test_config_is_immutable() -> None:
    cfg = EngineConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.flush_size_bytes = 1  # type: ignore[misc]


@pytest.mark.parametrize("name", ["flush_size", "FLUSH_SIZE_BYTES", "memstore_size", ""])
def test_unknown_option_is_named(name: str) -> None:
    with pytest.raises(InvalidArgument) as ei:
        EngineConfig.from_options({name: 1})
    assert repr(name) in str(ei.value)
    assert "flush_size_bytes" in str(ei.value)  # lists the known options


def test_connect_rejects_unknown_option(tmp_path: Any) -> None:
    with pytest.raises(InvalidArgument, match="'flush_sise_bytes'"):
        hedgerow.connect(str(tmp_path / "d"), flush_sise_bytes=1)


def test_flush_size_minimum() -> None:
    assert EngineConfig.from_options({"flush_size_bytes": 1024}).flush_size_bytes == 1024
    with pytest.raises(InvalidArgument, match="flush_size_bytes"):
        EngineConfig.from_options({"flush_size_bytes": 1023})
    with pytest.raises(InvalidArgument, match="flush_size_bytes"):
        EngineConfig.from_options({"flush_size_bytes": -1})


@pytest.mark.parametrize(
    "opts",
    [
        {"compaction_min_files": 1},
        {"compaction_min_files": 0},
        {"compaction_min_files": 5, "compaction_max_files": 4},
        {"compaction_max_files": 2},
    ],
)
def test_compaction_file_bounds(opts: dict[str, int]) -> None:
    with pytest.raises(InvalidArgument, match="compaction_min_files"):
        EngineConfig.from_options(opts)


def test_compaction_min_equal_max_is_fine() -> None:
    cfg = EngineConfig.from_options({"compaction_min_files": 4, "compaction_max_files": 4})
    assert (cfg.compaction_min_files, cfg.compaction_max_files) == (4, 4)


@pytest.mark.parametrize("value", ["big", None, b"2048"])
def test_non_numeric_value_is_invalid_argument(value: Any) -> None:
    with pytest.raises(InvalidArgument, match="flush_size_bytes"):
        EngineConfig.from_options({"flush_size_bytes": value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("blocking_multiplier", 0),
        ("block_cache_bytes", -1),
        ("wal_roll_bytes", 0),
        ("max_cell_bytes", -5),
        ("compaction_ratio", -1.0),
        ("major_compaction_period_s", -1),
        ("background", "no"),
        ("flush_size_bytes", 2048.5),
    ],
)
def test_out_of_range_values_are_rejected(name: str, value: Any) -> None:
    with pytest.raises(InvalidArgument, match=name):
        EngineConfig.from_options({name: value})
