"""Tests for cli/main.py and cli/dump.py: ``hedgerow dump wal|storefile|manifest|catalog``."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest

import hedgerow
from hedgerow.cli.main import main

ROWS = 40


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A small data directory: table "t" (cf, f2), puts, a row delete and a column delete."""
    d = str(tmp_path_factory.mktemp("dump") / "data")
    conn = hedgerow.connect(d, flush_size_bytes=2048)
    conn.create_table("t", {"cf": {}, "f2": {"max_versions": 3}})
    t = conn.table("t")
    for i in range(ROWS):
        t.put(b"row%03d" % i, {b"cf:q": b"val%03d" % i, b"f2:x": b"y"})
    t.delete(b"row005")  # DeleteFamily in every family
    t.delete(b"row006", columns=[b"cf:q"])  # DeleteColumn
    conn.close()
    return d


def _region_dir(d: str) -> str:
    (region,) = glob.glob(os.path.join(d, "tables", "t", "*"))
    return region


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_dump_wal(data_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    wals = sorted(glob.glob(os.path.join(data_dir, "WALs", "rs0", "*.log")))
    assert wals, "the data directory has no WAL file"
    outs = []
    for w in wals:
        rc, out, err = _run(capsys, "dump", "wal", w)
        assert rc == 0 and err == ""
        assert out.startswith(f"WAL file {w} (")
        outs.append(out)
    text = "".join(outs)
    region = os.path.basename(_region_dir(data_dir))
    assert f"region={region}" in text
    for i in range(ROWS):
        assert f"row{i:03d} cf:q ts=" in text
    assert "value=val007" in text
    assert "row005 cf: ts=" in text and "type=DeleteFamily" in text
    assert "row005 f2: ts=" in text
    assert "row006 cf:q ts=" in text and "type=DeleteColumn" in text
    assert "type=Put" in text
    assert text.count(" edits\n") == len(wals)


def test_dump_wal_no_values(data_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    w = sorted(glob.glob(os.path.join(data_dir, "WALs", "rs0", "*.log")))[0]
    rc, out, _ = _run(capsys, "dump", "wal", "--no-values", w)
    assert rc == 0
    assert "value_len=6" in out
    assert "value=val" not in out


def test_dump_storefile(data_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(glob.glob(os.path.join(_region_dir(data_dir), "cf", "*.sst")))
    assert files
    text = ""
    for kind in ("storefile", "sstable", "hfile"):
        rc, out, err = _run(capsys, "dump", kind, files[0])
        assert rc == 0 and err == ""
        assert f"store file {files[0]}" in out
        assert "family: cf" in out
    for f in files:
        rc, out, _ = _run(capsys, "dump", "storefile", f)
        assert rc == 0
        text += out
    assert "row000/q/" in text and "/PUT/" in text and "= val000" in text
    assert "row005//" in text and "/DELETE_FAMILY/" in text
    assert "row006/q/" in text and "/DELETE_COLUMN/" in text
    f2 = sorted(glob.glob(os.path.join(_region_dir(data_dir), "f2", "*.sst")))
    rc, out, _ = _run(capsys, "dump", "storefile", f2[0])
    assert rc == 0 and "family: f2" in out and "/x/" in out


def test_dump_manifest(data_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    region = _region_dir(data_dir)
    rc, out, err = _run(capsys, "dump", "manifest", region)
    assert rc == 0 and err == ""
    assert f"region manifest in {region}" in out
    assert f"'name': '{os.path.basename(region)}'" in out and "'table': 't'" in out
    assert "family cf:" in out and "family f2:" in out
    for sst in glob.glob(os.path.join(region, "cf", "*.sst")):
        assert os.path.basename(sst) in out
    # a file inside the region directory names the region too
    rc2, out2, _ = _run(capsys, "dump", "manifest", os.path.join(region, "CURRENT"))
    assert rc2 == 0 and out2 == out


def test_dump_catalog(data_dir: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = _run(capsys, "dump", "catalog", data_dir)
    assert rc == 0 and err == ""
    region = os.path.basename(_region_dir(data_dir))
    assert "1 tables" in out
    assert "table t (enabled)" in out
    assert "'name': 'cf'" in out and "'name': 'f2'" in out and "'max_versions': 3" in out
    assert f"region {region} [-inf, +inf)" in out
    rc, out2, _ = _run(capsys, "dump", "catalog", os.path.join(data_dir, "CATALOG"))
    assert rc == 0 and out2.splitlines()[1:] == out.splitlines()[1:]


# ------------------------------------------------------------------ help and errors


def test_help_shows_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["--help"])
    assert ei.value.code == 0
    out = capsys.readouterr().out
    assert "usage: hedgerow" in out
    assert 'hedgerow.connect("./data")' in out
    assert "dump" in out


def test_dump_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["dump", "--help"])
    assert ei.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "hedgerow dump wal ./data/WALs/rs0/000000000001.log" in out
    assert "hedgerow dump catalog ./data" in out
    for kind in ("wal", "storefile", "manifest", "catalog"):
        assert kind in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "--version")
    assert rc == 0 and out == f"hedgerow {hedgerow.__version__}\n"


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys)
    assert rc == 2 and "usage: hedgerow" in out


def test_unknown_kind_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        main(["dump", "bogus", "x"])
    assert ei.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["wal", "storefile", "manifest"])
def test_missing_file_is_exit_1_with_error_line(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope" / "000000000001.log")
    rc, out, err = _run(capsys, "dump", kind, missing)
    assert rc == 1
    assert err.startswith("ERROR: ")
    assert "nope" in err


def test_corrupt_storefile_is_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "000000000001.sst"
    bad.write_bytes(b"not a store file" * 10)
    rc, _, err = _run(capsys, "dump", "storefile", str(bad))
    assert rc == 1 and err.startswith("ERROR: ") and str(bad) in err


def test_corrupt_catalog_is_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "CATALOG").write_bytes(b"garbage" * 5)
    rc, _, err = _run(capsys, "dump", "catalog", str(tmp_path))
    assert rc == 1 and err.startswith("ERROR: ") and "CATALOG" in err


def test_missing_catalog_is_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = _run(capsys, "dump", "catalog", str(tmp_path / "nope" / "CATALOG"))
    assert rc == 1 and err.startswith("ERROR: ")


def test_missing_path_inside_region_dir_is_an_error(
    data_dir: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = _run(capsys, "dump", "manifest", os.path.join(_region_dir(data_dir), "nope"))
    assert rc == 1 and err.startswith("ERROR: ")
